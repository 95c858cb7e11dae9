// An approved version becomes immutable on the NAS: a ZFS snapshot of the artifact dataset,
// named after the version, taken while it awaits audit (so the auditor's statement can name
// it), and a hold placed once it is approved, so nobody can destroy the snapshot by mistake.
import { readFile } from 'node:fs/promises';
import { connectTrueNas, TrueNasError, type JsonRpcClient } from './jsonrpc';

export interface TrueNasConfig {
  /** wss://host/api/current */
  url: string;
  /** The ZFS dataset that holds the artifact root, e.g. tank/mlc-artifacts. */
  dataset: string;
  /** File holding the API key (never the key itself in config). */
  apiKeyFile: string;
  /** PEM of a CA to trust for a NAS with its own certificate. */
  caFile?: string;
}

async function session<T>(config: TrueNasConfig, use: (rpc: JsonRpcClient) => Promise<T>): Promise<T> {
  const ca = config.caFile ? await readFile(config.caFile, 'utf8') : undefined;
  const apiKey = (
    await readFile(config.apiKeyFile, 'utf8').catch(() => {
      throw new TrueNasError(`cannot read the TrueNAS API key file ${config.apiKeyFile}`, null, true);
    })
  ).trim();
  const rpc = await connectTrueNas(config.url, { ...(ca ? { ca } : {}) });
  try {
    const ok = await rpc.call<boolean>('auth.login_with_api_key', [apiKey]);
    if (!ok)
      throw new TrueNasError(
        `TrueNAS at ${config.url} refused the API key in ${config.apiKeyFile}: create a key with SNAPSHOT_WRITE and put it there`,
        'EACCES',
        true,
      );
    return await use(rpc);
  } finally {
    await rpc.close();
  }
}

/** Snapshot names: the run key and the start of the manifest digest, ZFS-safe. */
export function snapshotNameFor(runKey: string, manifestSha256: string): string {
  return `mlc-${runKey.replace(/[^A-Za-z0-9_.-]/g, '_')}-${manifestSha256.slice(0, 12)}`;
}

/** Takes the snapshot (an existing one of that name counts: a retried activity). Returns its id, dataset@name. */
export async function takeSnapshot(config: TrueNasConfig, name: string): Promise<string> {
  const id = `${config.dataset}@${name}`;
  return session(config, async (rpc) => {
    try {
      await rpc.call('pool.snapshot.create', [{ dataset: config.dataset, name }]);
    } catch (e) {
      if (!(e instanceof TrueNasError && e.errname === 'EEXIST')) throw e;
    }
    return id;
  });
}

export async function holdSnapshot(config: TrueNasConfig, id: string): Promise<void> {
  await session(config, (rpc) => rpc.call('pool.snapshot.hold', [id]));
}
