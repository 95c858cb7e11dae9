// The emulated Azure stack in one call: Azurite (Blob), the Azure ML control-plane contract
// server (which runs each deployment under the real azmlinfsrv), and a configuration file
// that names it as workspace "emulated", exactly as a real workspace would be named. Used by
// the Azure end-to-end test and by `npm run demo:azure`.
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { startAzurite, type Azurite } from './azurite';
import { startAzureMlEmulator } from './contract-server';

/** The variable the worker reads the emulator's (public, well-known) storage key from. */
export const EMULATED_BLOB_ENV = 'MLC_EMULATED_BLOB_CONNECTION_STRING';
export const EMULATED_WORKSPACE = 'emulated';

export type AzureMlEmulator = Awaited<ReturnType<typeof startAzureMlEmulator>>;

export interface EmulatedAzure {
  azurite: Azurite;
  emulator: AzureMlEmulator;
  /** MLC_CONFIG file naming workspace "emulated" (and nothing else: defaults stay). */
  configFile: string;
  /** What a worker or CLI process needs in its environment to use it. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export async function startEmulatedAzure(dir: string, options: { opDurationMs?: number; retryAfterSeconds?: number } = {}): Promise<EmulatedAzure> {
  await mkdir(dir, { recursive: true });
  const azurite = await startAzurite();
  const token = randomBytes(24).toString('hex');
  let emulator: AzureMlEmulator;
  try {
    emulator = await startAzureMlEmulator({ azurite: { blobEndpoint: azurite.blobEndpoint, connectionString: azurite.connectionString }, token, ...options });
  } catch (err) {
    await azurite.stop();
    throw err;
  }
  const tokenFile = path.join(dir, 'arm-token');
  const caFile = path.join(dir, 'arm-ca.pem');
  await writeFile(tokenFile, token, { mode: 0o600 });
  await writeFile(caFile, emulator.caPem);
  const configFile = path.join(dir, 'mlc.config.yaml');
  await writeFile(
    configFile,
    `# Written by infra/azure-emulated/stack.ts: the emulated Azure ML workspace.\n${stringify({
      workspaces: {
        [EMULATED_WORKSPACE]: {
          subscriptionId: emulator.subscriptionId,
          resourceGroup: emulator.resourceGroup,
          workspace: emulator.workspace,
          location: emulator.location,
          armEndpoint: emulator.armEndpoint,
          caFile,
          credential: { kind: 'token-file', path: tokenFile },
          blobEndpoint: azurite.blobEndpoint,
          blobConnectionStringEnv: EMULATED_BLOB_ENV,
        },
      },
    })}`,
  );
  return {
    azurite,
    emulator,
    configFile,
    env: { MLC_CONFIG: configFile, [EMULATED_BLOB_ENV]: azurite.connectionString },
    async stop() {
      await emulator.stop().catch(() => undefined);
      await azurite.stop();
    },
  };
}
