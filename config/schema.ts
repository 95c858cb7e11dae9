// The application's configuration, as zod schemas: where Temporal is, where artifacts and
// the registry live, and the named places work goes to — compute clusters (by executor kind)
// and Azure ML workspaces. Secrets are never values here: only paths of files or names of
// environment variables that hold them.
import { isAbsolute } from 'node:path';
import { z } from 'zod';

/** endpoint.predictionLog: when the built-in endpoint logs a prediction, relative to its answer (adapters/endpoint/micro-batcher.ts). */
export const PREDICTION_LOGGING = ['before-answer', 'after-answer'] as const;
export type PredictionLogging = (typeof PREDICTION_LOGGING)[number];

const name = z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'a name: lower-case letters, digits and dashes');

const clusterCommon = {
  /** Where the repository (slurm/train.py) lives as seen from the cluster's nodes. */
  codeDir: z.string().min(1),
  /** The artifact root as seen from the cluster (the same NFS export the workers mount). */
  artifactsRoot: z.string().min(1),
  /** Python interpreter on the nodes, with torch and transformers installed. */
  python: z.string().min(1),
  /** One squeue (+ sacct/scontrol) round per cluster per interval, whatever the job count. */
  pollIntervalMs: z.coerce.number().int().positive(),
};

/** A SLURM cluster reached over SSH (sbatch, squeue, sacct, scontrol on its login host). */
export const slurmClusterSchema = z.strictObject({
  executor: z.literal('slurm'),
  host: z.string().min(1),
  port: z.coerce.number().int().positive().default(22),
  username: z.string().min(1),
  /** Path to the private key; never put the key itself in config or workflow input. */
  privateKeyPath: z.string().optional(),
  /** Use the SSH agent at this socket instead of a key file. */
  agentSocket: z.string().optional(),
  /** Pinned host keys (OpenSSH known_hosts format). Required: we never accept blindly. */
  knownHostsPath: z.string().min(1),
  ...clusterCommon,
});

/** No scheduler: the same script as a child process of the worker, same artifact layout. */
export const localClusterSchema = z.strictObject({
  executor: z.literal('local'),
  ...clusterCommon,
});

export const clusterSchema = z.discriminatedUnion('executor', [slurmClusterSchema, localClusterSchema]);
export type ClusterConfig = z.infer<typeof clusterSchema>;
export type SlurmClusterConfig = z.infer<typeof slurmClusterSchema>;
export type LocalClusterConfig = z.infer<typeof localClusterSchema>;

/** How a worker authenticates to Azure. */
const azureCredentialSchema = z.discriminatedUnion('kind', [
  /** @azure/identity's DefaultAzureCredential chain: service principal env, managed identity, Azure CLI. */
  z.strictObject({ kind: z.literal('default') }),
  /** A bearer token read from a file at each use (the emulated control plane; a token broker's output). */
  z.strictObject({ kind: z.literal('token-file'), path: z.string().min(1) }),
]);

/** An Azure ML workspace, named in specs as `deployment.workspace`. */
export const workspaceSchema = z.strictObject({
  subscriptionId: z.string().min(1),
  resourceGroup: z.string().min(1),
  workspace: z.string().min(1),
  /** Azure region of new endpoints, e.g. "westeurope". */
  location: z.string().min(1).default('westeurope'),
  /** The datastore packages are uploaded to (the workspace's default blob store). */
  datastore: z.string().min(1).default('workspaceblobstore'),
  /** Resource Manager endpoint; only an emulator or a sovereign cloud changes it. */
  armEndpoint: z.string().url().default('https://management.azure.com'),
  /** PEM file of an extra CA to trust for armEndpoint (an emulator's self-signed certificate). */
  caFile: z.string().optional(),
  credential: azureCredentialSchema.prefault({ kind: 'default' }),
  /** Blob service URL of the datastore's account when it is not https://<account>.blob.core.windows.net (an emulator). */
  blobEndpoint: z.string().url().optional(),
  /** Name of an environment variable holding a storage connection string (an emulator); else the credential above. */
  blobConnectionStringEnv: z
    .string()
    .regex(/^[A-Z_][A-Z0-9_]*$/)
    .optional(),
  /** Where score.py appends its request log (container/prefix in the datastore's account). */
  requestLog: z.strictObject({ container: z.string().min(3).default('mlc-requests'), prefix: z.string().default('requests') }).prefault({}),
});
export type WorkspaceConfig = z.infer<typeof workspaceSchema>;

const envName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'the name of an environment variable: upper-case letters, digits and "_"');

/**
 * The payload codec every client and worker uses (adapters/temporal-codec): AES-256-GCM, so
 * workflow histories hold ciphertext. Keys are "<id>:<base64 of 32 bytes>" entries; the first
 * one found encrypts, every listed one decrypts (rotation: add the new key first, keep the old).
 */
export const codecSchema = z.strictObject({
  /** Read after keysEnv; the first is created with a new key when no key is found anywhere. */
  keyFiles: z.array(z.string().min(1)).min(1, 'name at least one key file'),
  /** Variable whose keys come before the files' (production injects keys this way). */
  keysEnv: envName,
  /** The codec server the Web UI decodes payloads through (POST /decode, /encode). */
  server: z.strictObject({
    host: z.string().min(1),
    port: z.coerce.number().int().positive(),
    /** Callers present this token: "Authorization: Bearer <token>" or the endpoint URL's path. */
    tokenFile: z.string().min(1),
    /** Variable holding the token instead of tokenFile. */
    tokenEnv: envName,
  }),
});
export type CodecConfig = z.infer<typeof codecSchema>;

export const configSchema = z.strictObject({
  temporal: z.strictObject({
    address: z.string().min(1),
    namespace: z.string().min(1),
    /** The Web UI: links printed by mlc, and the only origin the codec server answers. */
    uiUrl: z.string().url(),
    codec: codecSchema,
  }),
  paths: z.strictObject({
    data: z.string(),
    /** Artifact store location: a path (the NFS mount) or azblob://account/container/prefix. */
    artifacts: z.string(),
    logs: z.string(),
    secrets: z.string(),
  }),
  /**
   * The only folders a spec's data.path may name (after symlinks are resolved): a spec must not
   * make the worker read its own keys or anything else it can read (adapters/datasets/data-roots.ts).
   */
  dataRoots: z.array(z.string().refine((p) => isAbsolute(p), 'an absolute folder')).min(1, 'name at least one folder'),
  /** PostgreSQL URL; when absent the registry is embedded PGlite under paths.data. */
  databaseUrl: z.string().url().optional(),
  /**
   * host:port where `npm run worker` serves the Temporal SDK's own metrics for Prometheus (task
   * slots, poll and schedule-to-start latencies, activity and workflow task outcomes, sticky cache),
   * at /metrics. Absent: none.
   */
  workerMetricsAddress: z
    .string()
    .regex(/^[^\s:/]+:\d{1,5}$/, 'host:port, such as 127.0.0.1:9464 (0.0.0.0:9464 to let another machine scrape it)')
    .optional(),
  endpoint: z.strictObject({
    host: z.string(),
    port: z.coerce.number().int().positive(),
    /**
     * Where the built-in endpoint runs the model: `threads`, copies of it in worker threads,
     * one core each, scoring batches side by side while the event loop serves HTTP and logs
     * (adapters/endpoint/scorer-instances.ts); or `event-loop`, one copy on the event loop,
     * which holds HTTP while a batch scores (bench/README.md compares them).
     */
    scoring: z.enum(['threads', 'event-loop']),
    /** How many copies `threads` runs; default: one per core (os.availableParallelism()). */
    scoringThreads: z.coerce.number().int().min(1).max(256),
    /**
     * `before-answer`: a /score answer waits until its predictions are logged, so every answer is
     * on record; `after-answer`: answered once scored and logged right behind (retried while the
     * log is down), faster, but predictions answered just before a crash may never be logged
     * (adapters/endpoint/micro-batcher.ts; bench/README.md measures both).
     */
    predictionLog: z.enum(PREDICTION_LOGGING),
  }),
  clusters: z.record(name, clusterSchema),
  workspaces: z.record(name, workspaceSchema).default({}),
  /**
   * When the artifact root is a TrueNAS dataset: each version awaiting audit is snapshotted and
   * the snapshot held once approved (adapters/truenas). Absent: no snapshots.
   */
  nas: z
    .strictObject({
      /** wss://host/api/current — TLS only: TrueNAS revokes keys sent in clear. */
      url: z.string().regex(/^wss:\/\//, 'a wss:// URL (TrueNAS revokes API keys sent over plain HTTP)'),
      dataset: z.string().min(1),
      apiKeyFile: z.string().min(1),
      caFile: z.string().optional(),
    })
    .optional(),
  /** Where a degraded monitoring report is POSTed as JSON (activities/monitoring-alert.ts). */
  monitoring: z
    .strictObject({
      alertWebhookUrl: z.string().url().optional(),
      /** Variable holding the URL instead, for hooks whose URL is itself the secret (chat webhooks). */
      alertWebhookUrlEnv: envName.optional(),
    })
    .optional(),
});
export type MlcConfig = z.infer<typeof configSchema>;
export { name as configNameSchema };
