// Which files a spec's data.path may name. A spec comes from whoever may start a lifecycle,
// but preprocess reads as the worker, which holds the cluster's SSH key, the endpoint key and
// the registry: unfenced, `data.path: ../.data/ssh/id_ed25519` copied the key line by line into
// quarantine.jsonl in the artifact store. So data must lie inside a configured root once
// symlinks are resolved, and never among the worker's own secrets, whatever the roots say.
import { readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { MlcConfig } from '../../temporal.config';

export interface DataAccess {
  /** Folders data may come from (config.dataRoots). */
  roots: string[];
  /** Folders and files refused even inside a root: the worker's secrets. */
  secrets: string[];
  /** The worker's own folder (registry, artifacts, logs): refused unless a root lies within it. */
  dataDir: string;
}

export class DataPathRefusedError extends Error {
  override name = 'DataPathRefusedError';
  /** Retrying cannot fix it: the activity fails at once (see activities/errors.ts). */
  readonly nonRetryable = true;
  constructor(
    readonly path: string,
    readonly realPath: string,
    readonly roots: string[],
    readonly reason: string,
    readonly field = 'data.path',
  ) {
    super(
      `Refused to read ${field} ${path}${realPath === path ? '' : ` (really ${realPath})`}: ${reason}. ` +
        `Data may only come from the data roots: ${roots.join(', ')}. ` +
        'Move the data under one of them, or add a folder holding it to dataRoots in the MLC_CONFIG file (or MLC_DATA_ROOTS; README, "Configuration").',
    );
  }
}

export function dataAccessFrom(config: MlcConfig): DataAccess {
  const clusterFiles = Object.values(config.clusters).flatMap((c) => (c.executor === 'slurm' ? [c.privateKeyPath, c.knownHostsPath] : []));
  const tokenFiles = Object.values(config.workspaces).map((w) => (w.credential.kind === 'token-file' ? w.credential.path : undefined));
  return {
    roots: config.dataRoots,
    secrets: [config.paths.secrets, path.join(config.paths.data, 'ssh'), ...clusterFiles, ...tokenFiles].filter((p): p is string => !!p),
    dataDir: config.paths.data,
  };
}

const within = (file: string, dir: string) => {
  const rel = path.relative(dir, file);
  return rel === '' || (!rel.startsWith(`..${path.sep}`) && rel !== '..' && !path.isAbsolute(rel));
};

/** The real path; for a path that does not exist (yet), that of its nearest existing ancestor plus the rest. */
async function realPathOf(file: string): Promise<string> {
  const abs = path.resolve(file);
  try {
    return await realpath(abs);
  } catch (err) {
    const parent = path.dirname(abs);
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || parent === abs) return abs;
    return path.join(await realPathOf(parent), path.basename(abs));
  }
}

/** A file's identity, to catch a hard link to a secret; undefined when it cannot be stat'ed. */
const identity = (file: string) =>
  stat(file).then(
    (s) => (s.isFile() ? `${s.dev}:${s.ino}` : undefined),
    () => undefined,
  );

/** The secret files by identity: each one named, and those directly in each secret folder. */
async function secretIdentities(secrets: string[]): Promise<Set<string>> {
  const files = await Promise.all(secrets.map(async (s) => [s, ...(await readdir(s).catch(() => [])).map((f) => path.join(s, f))]));
  return new Set((await Promise.all(files.flat().map(identity))).filter((id): id is string => !!id));
}

/**
 * Resolves `file` (absolute) to its real path and returns it when data may be read there;
 * otherwise throws DataPathRefusedError. Read the returned path, not `file`.
 */
export async function confineDataPath(file: string, access: DataAccess, field = 'data.path'): Promise<string> {
  const given = path.resolve(file);
  const real = await realPathOf(given);
  const refuse = (reason: string) => new DataPathRefusedError(given, real, access.roots, reason, field);
  const roots = await Promise.all(access.roots.map(realPathOf));
  const holding = roots.filter((root) => within(real, root));
  if (!holding.length) throw refuse('it lies outside every data root');

  for (const secret of access.secrets) {
    const forms = [path.resolve(secret), await realPathOf(secret)];
    if (forms.some((s) => within(real, s) || within(given, s))) throw refuse(`it is among the worker's secrets (${secret})`);
  }
  const dataDirs = [path.resolve(access.dataDir), await realPathOf(access.dataDir)];
  const inDataDir = dataDirs.some((d) => within(real, d) || within(given, d));
  if (inDataDir && !holding.some((root) => dataDirs.some((d) => within(root, d)))) {
    throw refuse(`it is in the worker's data folder (${access.dataDir}), which no data root lies within`);
  }
  const id = await identity(real);
  if (id && (await secretIdentities(access.secrets)).has(id)) throw refuse("it is a link to one of the worker's secrets");
  return real;
}
