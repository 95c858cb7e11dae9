// The one place that says where everything is: Temporal, task queues, search attributes,
// paths, the registry database and the compute clusters. Every value comes from the
// environment with an embedded default, and is validated so a typo fails at start-up with
// the variable's name instead of deep inside a workflow.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

export const repoRoot = path.dirname(fileURLToPath(import.meta.url));

export { searchAttributes, taskQueues } from './domain/temporal-names';

const clusterSchema = z.object({
  /** `slurm` submits over SSH; `local` runs the same script as a child process. */
  executor: z.enum(['slurm', 'local']),
  host: z.string().min(1),
  port: z.coerce.number().int().positive(),
  username: z.string().min(1),
  /** Path to the private key; never put the key itself in config or workflow input. */
  privateKeyPath: z.string().optional(),
  /** Use the SSH agent at this socket instead of a key file. */
  agentSocket: z.string().optional(),
  /** Pinned host keys (OpenSSH known_hosts format). Required: we never accept blindly. */
  knownHostsPath: z.string().min(1),
  /** Where the repository (slurm/train.py) lives as seen from the cluster's nodes. */
  codeDir: z.string().min(1),
  /** The artifact root as seen from the cluster (the same NFS export the workers mount). */
  artifactsRoot: z.string().min(1),
  /** Python interpreter on the nodes, with torch and transformers installed. */
  python: z.string().min(1),
  /** One squeue (+ sacct/scontrol) round per cluster per interval, whatever the job count. */
  pollIntervalMs: z.coerce.number().int().positive(),
});
export type ClusterConfig = z.infer<typeof clusterSchema>;

const configSchema = z.object({
  temporal: z.object({
    address: z.string().min(1),
    namespace: z.string().min(1),
    uiUrl: z.string().url(),
  }),
  paths: z.object({
    data: z.string(),
    artifacts: z.string(),
    logs: z.string(),
    secrets: z.string(),
  }),
  /** PostgreSQL URL; when absent the registry is embedded PGlite under paths.data. */
  databaseUrl: z.string().url().optional(),
  endpoint: z.object({
    host: z.string(),
    port: z.coerce.number().int().positive(),
  }),
  clusters: z.record(z.string(), clusterSchema),
});
export type MlcConfig = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly issues: string[]) {
    super(`Invalid configuration:\n  ${issues.join('\n  ')}\nFix the environment variables named above (see README, "Configuration").`);
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): MlcConfig {
  const data = path.resolve(repoRoot, env.MLC_DATA_DIR ?? '.data');
  const artifacts = path.resolve(env.MLC_ARTIFACTS_ROOT ?? path.join(data, 'artifacts'));
  const ssh = path.join(data, 'ssh');
  const raw = {
    temporal: {
      address: env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
      namespace: env.TEMPORAL_NAMESPACE ?? 'default',
      uiUrl: env.TEMPORAL_UI_URL ?? 'http://127.0.0.1:8233',
    },
    paths: { data, artifacts, logs: path.join(data, 'logs'), secrets: path.join(data, 'secrets') },
    databaseUrl: env.DATABASE_URL || undefined,
    endpoint: { host: env.MLC_ENDPOINT_HOST ?? '127.0.0.1', port: env.MLC_ENDPOINT_PORT ?? 8765 },
    clusters: {
      // The one-node SLURM cluster scripts/services.sh runs on this machine, over sshd on loopback.
      local: {
        executor: 'slurm',
        host: env.MLC_SLURM_HOST ?? '127.0.0.1',
        port: env.MLC_SLURM_PORT ?? 2222,
        username: env.MLC_SLURM_USER ?? env.USER ?? 'root',
        privateKeyPath: env.MLC_SLURM_KEY ?? path.join(ssh, 'id_ed25519'),
        agentSocket: env.MLC_SLURM_AGENT,
        knownHostsPath: env.MLC_SLURM_KNOWN_HOSTS ?? path.join(ssh, 'known_hosts'),
        codeDir: env.MLC_SLURM_CODE_DIR ?? repoRoot,
        artifactsRoot: env.MLC_SLURM_ARTIFACTS_ROOT ?? artifacts,
        python: env.MLC_SLURM_PYTHON ?? path.join(repoRoot, '.venv/bin/python'),
        pollIntervalMs: env.MLC_SLURM_POLL_MS ?? 2000,
      },
      // No scheduler: the same script as a child process of the worker, same artifact layout.
      'local-process': {
        executor: 'local',
        host: 'localhost',
        port: 22,
        username: env.USER ?? 'root',
        knownHostsPath: '/dev/null',
        codeDir: repoRoot,
        artifactsRoot: artifacts,
        python: path.join(repoRoot, '.venv/bin/python'),
        pollIntervalMs: 1000,
      },
    },
  };
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  return parsed.data;
}
