// Where each setting comes from, in order: the embedded defaults (a fresh machine's local
// services), then the YAML file named by MLC_CONFIG, then environment variables (for
// containers and CI). Every value is validated at start-up, and every value remembers its
// source, so `mlc config show` can say why a worker talks to the cluster it does.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { configSchema, type MlcConfig } from './schema';

export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly nonRetryable = true;
  constructor(readonly issues: string[]) {
    super(`Invalid configuration:\n  ${issues.join('\n  ')}\nFix the settings named above (see README, "Configuration").`);
  }
}

/** Dotted path of a setting → where its value came from ("default", "file", "env:NAME"). */
export type ConfigSources = Map<string, string>;

export interface LoadedConfig {
  config: MlcConfig;
  sources: ConfigSources;
  file: string | null;
}

type Tree = Record<string, unknown>;
const isTree = (v: unknown): v is Tree => typeof v === 'object' && v !== null && !Array.isArray(v);

export function loadConfigWithSources(repoRoot: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const sources: ConfigSources = new Map();
  const raw: Tree = {};
  const set = (keys: string[], value: unknown, source: string) => {
    if (value === undefined || value === '') return;
    let node = raw;
    for (const k of keys.slice(0, -1)) node = isTree(node[k]) ? node[k] : (node[k] = {});
    node[keys.at(-1)!] = value;
    sources.set(keys.join('.'), source);
  };
  const merge = (keys: string[], value: unknown, source: string) => {
    if (isTree(value)) for (const [k, v] of Object.entries(value)) merge([...keys, k], v, source);
    else set(keys, value, source);
  };

  const data = path.resolve(repoRoot, env.MLC_DATA_DIR ?? '.data');
  for (const [keys, value] of defaults(repoRoot, data, env)) set(keys, value, 'default');

  const file = env.MLC_CONFIG ? path.resolve(env.MLC_CONFIG) : null;
  if (file) {
    const tree = readConfigFile(file);
    // A cluster or workspace named in the file replaces the default of that name whole: a
    // half-inherited SSH identity would be a surprise.
    for (const group of ['clusters', 'workspaces']) {
      for (const name of Object.keys(isTree(tree[group]) ? tree[group] : {})) {
        if (isTree(raw[group])) delete raw[group][name];
        for (const key of [...sources.keys()]) if (key.startsWith(`${group}.${name}.`)) sources.delete(key);
      }
    }
    merge([], resolvePaths(tree, path.dirname(file)), `file ${file}`);
  }

  for (const [variable, keys, value] of overrides(env)) set(keys, value, `env ${variable}`);
  if (env.DATABASE_URL) set(['databaseUrl'], env.DATABASE_URL, 'env DATABASE_URL');
  // Secrets default to files under paths.secrets, wherever that was set (file or env), so
  // moving the secrets folder moves them all.
  const secrets = isTree(raw.paths) ? raw.paths.secrets : undefined;
  if (typeof secrets === 'string') {
    for (const [keys, value] of secretFileDefaults(secrets)) if (!sources.has(keys.join('.'))) set(keys, value, 'default (under paths.secrets)');
  }

  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => {
        const at = i.path.join('.');
        const message = /received undefined/.test(i.message) ? 'is required but missing' : i.message;
        return `${at || '(root)'}: ${message}${sourceNear(sources, i.path.map(String)) ?? ''}`;
      }),
    );
  }
  return { config: parsed.data, sources, file };
}

/** Where the setting, or the nearest group around it, was given: " (from file x.yaml)". */
function sourceNear(sources: ConfigSources, keys: string[]): string | undefined {
  for (let n = keys.length; n > 0; n--) {
    const at = keys.slice(0, n).join('.');
    const from = sources.get(at) ?? [...sources.entries()].find(([k]) => k.startsWith(`${at}.`))?.[1];
    if (from) return ` (from ${from})`;
  }
  return undefined;
}

function readConfigFile(file: string): Tree {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([
      `MLC_CONFIG names ${file}, which cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); fix the path or unset MLC_CONFIG`,
    ]);
  }
  let tree: unknown;
  try {
    tree = parseYaml(text);
  } catch (err) {
    throw new ConfigError([`${file} is not valid YAML: ${(err as Error).message}`]);
  }
  if (tree === null || tree === undefined) return {};
  if (!isTree(tree)) throw new ConfigError([`${file} must hold a mapping (temporal, paths, clusters, workspaces, ...)`]);
  return tree;
}

/** Paths in the file are relative to the file's folder, as people expect of a config file. */
const pathKeys = new Set([
  'data',
  'artifacts',
  'logs',
  'secrets',
  'privateKeyPath',
  'knownHostsPath',
  'caFile',
  'path',
  'codeDir',
  'artifactsRoot',
  'dataRoots',
  'keyFiles',
  'tokenFile',
]);
function resolvePaths(tree: Tree, base: string): Tree {
  const resolve = (v: unknown) => (typeof v === 'string' && !/^[a-z][a-z0-9+.-]*:\/\//.test(v) ? path.resolve(base, v) : v);
  return Object.fromEntries(
    Object.entries(tree).map(([k, v]) => {
      if (isTree(v)) return [k, resolvePaths(v, base)];
      if (pathKeys.has(k)) return [k, Array.isArray(v) ? v.map(resolve) : resolve(v)];
      return [k, v];
    }),
  );
}

function defaults(repoRoot: string, data: string, env: NodeJS.ProcessEnv): [string[], unknown][] {
  const artifacts = path.join(data, 'artifacts');
  const ssh = path.join(data, 'ssh');
  const python = path.join(repoRoot, '.venv/bin/python');
  const user = env.USER ?? 'root';
  return [
    [['temporal', 'address'], '127.0.0.1:7233'],
    [['temporal', 'namespace'], 'default'],
    [['temporal', 'uiUrl'], 'http://127.0.0.1:8233'],
    [['temporal', 'codec', 'keysEnv'], 'MLC_CODEC_KEYS'],
    // Next to the endpoint's 8765; not 8234, which a second dev server on 7234 gives its UI.
    [['temporal', 'codec', 'server', 'host'], '127.0.0.1'],
    [['temporal', 'codec', 'server', 'port'], 8766],
    [['temporal', 'codec', 'server', 'tokenEnv'], 'MLC_CODEC_SERVER_TOKEN'],
    [['paths', 'data'], data],
    [['paths', 'artifacts'], artifacts],
    [['paths', 'logs'], path.join(data, 'logs')],
    [['paths', 'secrets'], path.join(data, 'secrets')],
    // Where the example specs and the demo's data live; anything else is added by configuration.
    [['dataRoots'], [path.join(repoRoot, 'data'), path.join(repoRoot, 'examples')]],
    [['endpoint', 'host'], '127.0.0.1'],
    [['endpoint', 'port'], 8765],
    [['endpoint', 'scoring'], 'threads'],
    [['endpoint', 'scoringThreads'], os.availableParallelism()],
    [['endpoint', 'predictionLog'], 'before-answer'],
    // The one-node SLURM cluster scripts/services.sh runs on this machine, over sshd on loopback.
    [['clusters', 'local', 'executor'], 'slurm'],
    [['clusters', 'local', 'host'], '127.0.0.1'],
    [['clusters', 'local', 'port'], 2222],
    [['clusters', 'local', 'username'], user],
    [['clusters', 'local', 'privateKeyPath'], path.join(ssh, 'id_ed25519')],
    [['clusters', 'local', 'knownHostsPath'], path.join(ssh, 'known_hosts')],
    [['clusters', 'local', 'codeDir'], repoRoot],
    [['clusters', 'local', 'artifactsRoot'], artifacts],
    [['clusters', 'local', 'python'], python],
    [['clusters', 'local', 'pollIntervalMs'], 2000],
    // No scheduler: the same script as a child process of the worker.
    [['clusters', 'local-process', 'executor'], 'local'],
    [['clusters', 'local-process', 'codeDir'], repoRoot],
    [['clusters', 'local-process', 'artifactsRoot'], artifacts],
    [['clusters', 'local-process', 'python'], python],
    [['clusters', 'local-process', 'pollIntervalMs'], 1000],
  ];
}

/** Files of secrets that live in paths.secrets unless configured elsewhere. */
function secretFileDefaults(secrets: string): [string[], unknown][] {
  return [
    [['temporal', 'codec', 'keyFiles'], [path.join(secrets, 'codec-keys')]],
    [['temporal', 'codec', 'server', 'tokenFile'], path.join(secrets, 'codec-server.token')],
  ];
}

/** Environment variables that override one setting each (the README's table). */
function overrides(env: NodeJS.ProcessEnv): [string, string[], string | string[] | undefined][] {
  const local = (key: string) => ['clusters', 'local', key];
  // A folder (made absolute) or a store URL such as azblob://account/container/prefix (as is).
  const root = env.MLC_ARTIFACTS_ROOT;
  const artifacts = root ? (/^[a-z][a-z0-9+.-]*:\/\//.test(root) ? root : path.resolve(root)) : undefined;
  const folder = artifacts && !artifacts.includes('://') ? artifacts : undefined;
  // Colon-separated, as PATH is; each folder made absolute.
  const dataRoots = env.MLC_DATA_ROOTS
    ? env.MLC_DATA_ROOTS.split(':')
        .filter(Boolean)
        .map((p) => path.resolve(p))
    : undefined;
  const codecKeyFiles = env.MLC_CODEC_KEY_FILES
    ? env.MLC_CODEC_KEY_FILES.split(':')
        .filter(Boolean)
        .map((p) => path.resolve(p))
    : undefined;
  return [
    ['TEMPORAL_ADDRESS', ['temporal', 'address'], env.TEMPORAL_ADDRESS],
    ['TEMPORAL_NAMESPACE', ['temporal', 'namespace'], env.TEMPORAL_NAMESPACE],
    ['TEMPORAL_UI_URL', ['temporal', 'uiUrl'], env.TEMPORAL_UI_URL],
    ['MLC_CODEC_KEY_FILES', ['temporal', 'codec', 'keyFiles'], codecKeyFiles],
    ['MLC_CODEC_SERVER_HOST', ['temporal', 'codec', 'server', 'host'], env.MLC_CODEC_SERVER_HOST],
    ['MLC_CODEC_SERVER_PORT', ['temporal', 'codec', 'server', 'port'], env.MLC_CODEC_SERVER_PORT],
    ['MLC_ARTIFACTS_ROOT', ['paths', 'artifacts'], artifacts],
    // Clusters write runs to a shared filesystem: only a folder root is theirs too.
    ['MLC_ARTIFACTS_ROOT', ['clusters', 'local-process', 'artifactsRoot'], folder],
    ['MLC_DATA_ROOTS', ['dataRoots'], dataRoots],
    ['MLC_ENDPOINT_HOST', ['endpoint', 'host'], env.MLC_ENDPOINT_HOST],
    ['MLC_ENDPOINT_PORT', ['endpoint', 'port'], env.MLC_ENDPOINT_PORT],
    ['MLC_ENDPOINT_SCORING', ['endpoint', 'scoring'], env.MLC_ENDPOINT_SCORING],
    ['MLC_ENDPOINT_SCORING_THREADS', ['endpoint', 'scoringThreads'], env.MLC_ENDPOINT_SCORING_THREADS],
    ['MLC_ENDPOINT_PREDICTION_LOG', ['endpoint', 'predictionLog'], env.MLC_ENDPOINT_PREDICTION_LOG],
    ['MLC_WORKER_METRICS_ADDRESS', ['workerMetricsAddress'], env.MLC_WORKER_METRICS_ADDRESS],
    ['MLC_SLURM_HOST', local('host'), env.MLC_SLURM_HOST],
    ['MLC_SLURM_PORT', local('port'), env.MLC_SLURM_PORT],
    ['MLC_SLURM_USER', local('username'), env.MLC_SLURM_USER],
    ['MLC_SLURM_KEY', local('privateKeyPath'), env.MLC_SLURM_KEY],
    ['MLC_SLURM_AGENT', local('agentSocket'), env.MLC_SLURM_AGENT],
    ['MLC_SLURM_KNOWN_HOSTS', local('knownHostsPath'), env.MLC_SLURM_KNOWN_HOSTS],
    ['MLC_SLURM_CODE_DIR', local('codeDir'), env.MLC_SLURM_CODE_DIR],
    ['MLC_SLURM_ARTIFACTS_ROOT', local('artifactsRoot'), env.MLC_SLURM_ARTIFACTS_ROOT ?? folder],
    ['MLC_SLURM_PYTHON', local('python'), env.MLC_SLURM_PYTHON],
    ['MLC_SLURM_POLL_MS', local('pollIntervalMs'), env.MLC_SLURM_POLL_MS],
  ];
}
