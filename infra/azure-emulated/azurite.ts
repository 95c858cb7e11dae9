// Azurite, Microsoft's Blob emulator from npm, as a child process on a free loopback port.
// The tests and the emulated-Azure demo use it as the Blob service (artifact store, Azure ML
// datastore, the scoring script's request log). 3.35.0 is the last release that runs on
// Node 20; the SDK speaks a newer API version than it knows, hence --skipApiVersionCheck.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Azurite's well-known development account (public, documented by Microsoft; not a secret). */
export const DEV_ACCOUNT = 'devstoreaccount1';
export const DEV_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface Azurite {
  /** e.g. http://127.0.0.1:41234/devstoreaccount1 */
  blobEndpoint: string;
  connectionString: string;
  stop(): Promise<void>;
}

const bin = resolve(dirname(fileURLToPath(import.meta.url)), '../../node_modules/.bin/azurite-blob');

export async function startAzurite(options: { timeoutMs?: number } = {}): Promise<Azurite> {
  const workspace = await mkdtemp(join(tmpdir(), 'mlc-azurite-'));
  const child = spawn(
    bin,
    [
      '--blobHost',
      '127.0.0.1',
      '--blobPort',
      '0',
      '--inMemoryPersistence',
      '--skipApiVersionCheck',
      '--disableTelemetry',
      '--silent',
      '--extentMemoryLimit',
      '512',
    ],
    {
      // In memory: nothing persists; the cwd only catches anything Azurite might still write.
      cwd: workspace,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const port = await listeningPort(child, options.timeoutMs ?? 30_000).catch(async (err) => {
    child.kill('SIGKILL');
    await rm(workspace, { recursive: true, force: true });
    throw err;
  });
  const blobEndpoint = `http://127.0.0.1:${port}/${DEV_ACCOUNT}`;
  return {
    blobEndpoint,
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT};AccountKey=${DEV_KEY};BlobEndpoint=${blobEndpoint};`,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      await rm(workspace, { recursive: true, force: true });
    },
  };
}

function listeningPort(child: ChildProcess, timeoutMs: number): Promise<number> {
  return new Promise((resolvePort, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`Azurite did not start within ${timeoutMs / 1000}s. Its output:\n${output}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /(?:listening at|listens on) https?:\/\/[^:]+:(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolvePort(Number(match[1]));
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Azurite exited (code ${code}) before listening. Is node_modules/.bin/azurite-blob installed (npm ci)? Output:\n${output}`));
    });
  });
}
