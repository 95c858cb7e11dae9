// An Azure Machine Learning contract server: the ARM resources our deploy adapter uses
// (workspace, datastores, code/environment/model versions, online endpoints and
// deployments), with Azure's long-running-operation protocol, bodies validated against the
// SDK's own mappers, real inference servers (azmlinfsrv) behind each endpoint's scoring
// front door, and Azure's failures on demand. Real Azure cannot be reached from CI; this is
// the most faithful stand-in we can run, and it is only as faithful as its tests say.
import type { TokenCredential } from '@azure/core-auth';
import { BlobServiceClient } from '@azure/storage-blob';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seededRandom } from '../../../domain/random';
import { assetHandlers } from './assets';
import { fixedCredential } from './auth';
import { sleep, type DatastoreRecord, type EmulatorContext, type Handler } from './context';
import { deploymentHandlers } from './deployments';
import { endpointHandlers } from './endpoints';
import { Faults } from './faults';
import { Operations } from './lro';
import { armRequestListener } from './router';
import { loadSdkContract } from './sdk-contract';
import { emptyState, systemData, type EmulatorState } from './state';
import { selfSignedCert } from './tls';

export { fixedCredential } from './auth';
export { Faults } from './faults';
export type { EmulatorState } from './state';

export interface AzureMlEmulatorOptions {
  /** Azurite (or any Blob endpoint with a connection string): the workspace's storage account. */
  azurite: { blobEndpoint: string; connectionString: string };
  subscriptionId?: string;
  resourceGroup?: string;
  workspace?: string;
  location?: string;
  /** The one bearer token ARM accepts. */
  token?: string;
  /** How long each long-running operation takes: a fixed time or a [min, max] range. Default [300, 800]. */
  opDurationMs?: number | [number, number];
  /** Retry-After (seconds) on operation responses and polls while running; 0 sends none. Default 1. */
  retryAfterSeconds?: number;
  /** The inference server. Default $MLC_AZMLINFSRV, else <repo>/.venv-serving/bin/azmlinfsrv. */
  azmlinfsrv?: string;
  /** How long a deployment's server may take to answer its liveness route. Default 60 s. */
  readyTimeoutMs?: number;
  /** Dedicated cores the subscription may use for deployments. Default 100. */
  quotaCores?: number;
  /** Scoring front doors speak https with the emulator's certificate (default) or plain http. */
  scoringTls?: boolean;
  /** Seed of traffic routing and operation durations. */
  seed?: number;
}

export interface AzureMlEmulator {
  /** https://127.0.0.1:<port>: pass as the SDK client's `endpoint`. */
  armEndpoint: string;
  /** The self-signed certificate to trust: SDK option `tlsOptions: { ca: caPem }`. */
  caPem: string;
  credential: TokenCredential;
  token: string;
  subscriptionId: string;
  resourceGroup: string;
  workspace: string;
  location: string;
  /** The default datastore, workspaceblobstore, and where its container is in Azurite. */
  datastore: { name: string; containerName: string; containerUrl: string };
  faults: Faults;
  state: EmulatorState;
  stop(): Promise<void>;
}

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export async function startAzureMlEmulator(options: AzureMlEmulatorOptions): Promise<AzureMlEmulator> {
  const subscriptionId = options.subscriptionId ?? '00000000-0000-0000-0000-000000000001';
  const resourceGroup = options.resourceGroup ?? 'mlc-emulated';
  const workspace = options.workspace ?? 'mlc-workspace';
  const location = options.location ?? 'eastus';
  const token = options.token ?? 'mlc-emulator-token';
  const rand = seededRandom(options.seed ?? 42);
  const [minMs, maxMs] = typeof options.opDurationMs === 'number' ? [options.opDurationMs, options.opDurationMs] : (options.opDurationMs ?? [300, 800]);

  const connection = parseConnectionString(options.azurite.connectionString);
  const service = BlobServiceClient.fromConnectionString(options.azurite.connectionString);
  const workspaceGuid = guidFrom(`${subscriptionId}/${resourceGroup}/${workspace}`.toLowerCase());
  const blobstore: DatastoreRecord = {
    name: 'workspaceblobstore',
    containerName: `azureml-blobstore-${workspaceGuid}`,
    isDefault: true,
    systemData: systemData(),
  };
  await service.getContainerClient(blobstore.containerName).createIfNotExists();

  const cert = await selfSignedCert();
  const state = emptyState();
  const faults = new Faults();
  const scope = { subscriptionId, resourceGroup, workspace, location };
  let armEndpoint = '';
  const ctx: EmulatorContext = {
    contract: loadSdkContract(),
    scope,
    state,
    faults,
    operations: new Operations(state, scope, () => armEndpoint, options.retryAfterSeconds ?? 1),
    armEndpoint: () => armEndpoint,
    operationMs: () => faults.takeSlowOperation() ?? Math.round(minMs + rand() * (maxMs - minMs)),
    blob: {
      endpoint: options.azurite.blobEndpoint.replace(/\/+$/, ''),
      service,
      accountName: connection.AccountName ?? 'devstoreaccount1',
      accountKey: connection.AccountKey ?? '',
    },
    datastores: new Map([[blobstore.name, blobstore]]),
    cert,
    scoringTls: options.scoringTls ?? true,
    azmlinfsrv: options.azmlinfsrv ?? process.env.MLC_AZMLINFSRV ?? resolve(REPO_ROOT, '.venv-serving/bin/azmlinfsrv'),
    readyTimeoutMs: options.readyTimeoutMs ?? 60_000,
    quotaCores: options.quotaCores ?? 100,
    rand,
    workspaceGuid,
    runtimes: new Set(),
    stopping: false,
  };

  const handlers: Record<string, Handler> = { ...assetHandlers, ...endpointHandlers, ...deploymentHandlers };
  const server: Server = createServer({ key: cert.key, cert: cert.cert }, armRequestListener(ctx, token, handlers));
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok());
  });
  armEndpoint = `https://127.0.0.1:${(server.address() as { port: number }).port}`;

  return {
    armEndpoint,
    caPem: cert.cert,
    credential: fixedCredential(token),
    token,
    subscriptionId,
    resourceGroup,
    workspace,
    location,
    datastore: { name: blobstore.name, containerName: blobstore.containerName, containerUrl: `${ctx.blob.endpoint}/${blobstore.containerName}` },
    faults,
    state,
    async stop() {
      ctx.stopping = true;
      await new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      });
      // Let running operations settle (a deployment may be starting its server), then end
      // every server, whatever state its deployment is in.
      const running = [...state.operations.values()].filter((o) => o.status === 'InProgress').map((o) => o.done);
      await Promise.race([Promise.allSettled(running), sleep(ctx.readyTimeoutMs + 5000)]);
      await Promise.allSettled([...ctx.runtimes].map((r) => r.stop()));
      await Promise.allSettled([...state.endpoints.values()].map((e) => e.frontDoor.close()));
    },
  };
}

function parseConnectionString(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of s.split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}

/** A stable GUID-shaped id for the workspace (Azure's are random; stable is kinder to tests). */
function guidFrom(text: string): string {
  const h = createHash('sha256').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
