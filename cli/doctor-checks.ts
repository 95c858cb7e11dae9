// `mlc doctor`: every service the product needs, checked the way the product uses it, from the
// configuration this mlc reads (`mlc config show`): Temporal and its namespace and search
// attributes, the payload keys and the Web UI's codec server, a worker on each task queue, the
// registry, the artifact store (written, read back, checksummed), the built-in endpoint, each
// cluster's login and each Azure ML workspace. `scripts/services.sh status` says whether the local
// daemons run; this says whether the product can work with what it is configured to use, local or
// production, and names the fix for each thing that cannot. Nothing it does changes a lifecycle or
// a record: it writes one small file, which the artifact check overwrites each time, and creates a
// workspace datastore's container if it is missing, as the first upload would.
import { Client, Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { createHash } from 'node:crypto';
import { statfs } from 'node:fs/promises';
import { hostname } from 'node:os';
import { openConfiguredArtifactStore } from '../adapters/artifacts/from-config';
import { redactUrl } from '../adapters/db/errors';
import { openRegistry } from '../adapters/db/open';
import { checkCluster } from '../adapters/slurm/cluster-check';
import { EncryptionCodec, KEY_ID_METADATA } from '../adapters/temporal-codec/codec';
import { failureConverterPath } from '../adapters/temporal-codec/data-converter';
import { fromJson, localUrl, toJson, type JsonPayload } from '../adapters/temporal-codec/codec-server';
import { loadKeyring, type Keyring } from '../adapters/temporal-codec/keys';
import { loadCodecServerToken } from '../adapters/temporal-codec/server-token';
import type { CheckResult } from '../domain/checks';
import { messageOf, rootCauseMessage } from '../domain/errors';
import { searchAttributes, taskQueues } from '../domain/temporal-names';
import type { MlcConfig } from '../temporal.config';
import { isLive, lastPollOf } from './context';
import { workerRegistry } from './registry-access';

/** Where doctor's artifact check writes; overwritten each time, so checks leave one file. */
export const DOCTOR_ARTIFACT_KEY = 'doctor/last-check.json';
/** Below this, a training run's checkpoints and model files may not fit. */
const LOW_DISK_BYTES = 2 * 1024 ** 3;
const HTTP_TIMEOUT_MS = 3_000;

const pass = (check: string, detail: string): CheckResult => ({ check, status: 'pass', detail });
const warn = (check: string, detail: string, fix: string): CheckResult => ({ check, status: 'warn', detail, fix });
const fail = (check: string, detail: string, fix: string): CheckResult => ({ check, status: 'fail', detail, fix });
const skip = (check: string, detail: string): CheckResult => ({ check, status: 'skip', detail });
const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

const START_WORKER = 'start one: npm run worker (with DATABASE_URL the roles may run apart: npm run worker -- control, -- scoring, -- endpoint)';

export interface DoctorOptions {
  env?: NodeJS.ProcessEnv;
  /** How long one check may take before it counts as hung (a hard NFS mount whose server is gone never answers). */
  deadlineMs?: number;
}

export const DEFAULT_DEADLINE_MS = 45_000;

export async function runDoctor(config: MlcConfig, options: DoctorOptions = {}): Promise<CheckResult[]> {
  const env = options.env ?? process.env;
  const within = <T>(work: Promise<T>, hung: (seconds: number) => T) => bounded(work, options.deadlineMs ?? DEFAULT_DEADLINE_MS, hung);
  const hangs = (check: string, what: string) => (seconds: number) => fail(check, `no answer within ${seconds} s: ${what} hangs`, HUNG_FIX);
  const keys = await within<{ result: CheckResult; keyring?: Keyring }>(checkPayloadKeys(config, env), (seconds) => ({
    result: hangs('payload keys', 'reading the key files')(seconds),
  }));
  const [temporal, codecServer, registry, artifacts, endpoint, clusters, workspaces] = await Promise.all([
    within(checkTemporal(config, keys.keyring), (seconds) =>
      notChecked('Temporal hangs', [
        hangs('temporal', `Temporal at ${config.temporal.address}`)(seconds),
        skip('namespace', 'not checked: Temporal hangs'),
        skip('search attributes', 'not checked: Temporal hangs'),
      ]),
    ),
    within(checkCodecServer(config, keys.keyring, env), hangs('codec server', 'the codec server')),
    config.databaseUrl ? within(checkPostgresRegistry(config, config.databaseUrl), hangs('registry', 'PostgreSQL')) : null,
    within(checkArtifacts(config), hangs('artifacts', `the artifact store at ${config.paths.artifacts}`)),
    within(checkEndpoint(config), hangs('endpoint', 'the endpoint')),
    Promise.all(
      Object.entries(config.clusters).map(([name, cluster]) =>
        within(checkClusterLogin(config, name, cluster), hangs(`cluster ${name}`, `cluster ${name} (its login or its artifact folder)`)),
      ),
    ),
    Promise.all(
      Object.entries(config.workspaces).map(([name, workspace]) =>
        within(checkWorkspace(name, workspace), hangs(`workspace ${name}`, `Azure ML at ${workspace.armEndpoint}`)),
      ),
    ),
  ]);
  return [
    ...temporal.server,
    keys.result,
    codecServer,
    ...temporal.workers,
    registry ?? temporal.embeddedRegistry,
    artifacts,
    endpoint,
    ...clusters,
    ...workspaces,
  ];
}

const HUNG_FIX =
  'find what hangs (a hard-mounted NFS share whose server is gone blocks every access to it: mount -t nfs, showmount -e <server>) and run mlc doctor again; --timeout gives slow links longer';

/** The work's result, or hung(seconds) once ms have passed; the work itself cannot be cancelled (a blocked filesystem call), so the caller exits when done. */
export async function bounded<T>(work: Promise<T>, ms: number, hung: (seconds: number) => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(hung(Math.round(ms / 100) / 10)), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

async function checkPayloadKeys(config: MlcConfig, env: NodeJS.ProcessEnv): Promise<{ result: CheckResult; keyring?: Keyring }> {
  const codec = config.temporal.codec;
  try {
    const keyring = await loadKeyring(codec, env);
    const sources = [...new Set([...keyring.keys.values()].map((k) => k.source))].join(', ');
    return {
      keyring,
      result: pass('payload keys', `${plural(keyring.keys.size, 'key')} from ${sources}; new payloads are encrypted with ${keyring.primary.id}`),
    };
  } catch (e) {
    return {
      result: fail(
        'payload keys',
        messageOf(e),
        `fix the keys in env ${codec.keysEnv} or ${codec.keyFiles.join(', ')}: one "<key id>:<base64 of 32 bytes>" a line`,
      ),
    };
  }
}

interface TemporalChecks {
  server: CheckResult[];
  workers: CheckResult[];
  embeddedRegistry: CheckResult;
}

/** What cannot be checked once the server or the namespace does not answer. */
function notChecked(why: string, server: CheckResult[]): TemporalChecks {
  return {
    server,
    workers: Object.values(taskQueues).map((q) => skip(`worker ${q}`, `not checked: ${why}`)),
    embeddedRegistry: skip('registry', `embedded (PGlite, in the worker's process), read through a worker: not checked, ${why}`),
  };
}

async function checkTemporal(config: MlcConfig, keyring: Keyring | undefined): Promise<TemporalChecks> {
  const { address, namespace } = config.temporal;
  let connection: Connection;
  try {
    connection = await Connection.connect({ address, connectTimeout: '5s' });
  } catch (e) {
    const why = 'Temporal is unreachable';
    return notChecked(why, [
      fail(
        'temporal',
        `cannot reach ${address}: ${rootCauseMessage(e)}`,
        'start it (bash scripts/services.sh start temporal), or set TEMPORAL_ADDRESS to your frontend host:port',
      ),
      skip('namespace', `not checked: ${why}`),
      skip('search attributes', `not checked: ${why}`),
    ]);
  }
  try {
    const info = await connection.workflowService.getClusterInfo({});
    const server = [
      pass('temporal', `${address}, server ${info.serverVersion || 'of unknown version'}${info.clusterName ? ` (cluster ${info.clusterName})` : ''}`),
    ];
    try {
      const described = await connection.workflowService.describeNamespace({ namespace });
      const retention = described.config?.workflowExecutionRetentionTtl?.seconds;
      server.push(pass('namespace', `${namespace}${retention ? `, closed histories kept ${plural(Math.round(Number(retention) / 86_400), 'day')}` : ''}`));
    } catch (e) {
      const why = `namespace ${namespace} does not answer`;
      return notChecked(why, [
        ...server,
        fail(
          'namespace',
          `${namespace}: ${messageOf(e)}`,
          `create it (temporal operator namespace create --namespace ${namespace}), or set TEMPORAL_NAMESPACE to the one your workers use`,
        ),
        skip('search attributes', `not checked: ${why}`),
      ]);
    }
    server.push(await checkSearchAttributes(connection, namespace));
    const client = new Client({
      connection,
      namespace,
      ...(keyring && { dataConverter: { payloadCodecs: [new EncryptionCodec(keyring)], failureConverterPath } }),
    });
    const ctx = { config, client, close: async () => undefined };
    const [control, scoring] = await Promise.all([
      checkWorker(ctx, taskQueues.control, 'workflow', 'lifecycles, training jobs and the registry'),
      checkWorker(ctx, taskQueues.scoring, 'activity', 'evaluation and monitoring'),
    ]);
    const workers = [control, scoring];
    let embeddedRegistry: CheckResult;
    if (control.status !== 'pass') embeddedRegistry = notChecked(`no worker polls ${taskQueues.control}`, []).embeddedRegistry;
    else if (!keyring) embeddedRegistry = skip('registry', 'embedded, read through a worker: not checked without the payload keys');
    else embeddedRegistry = await checkEmbeddedRegistry(client, config);
    return { server, workers, embeddedRegistry };
  } finally {
    await connection.close();
  }
}

/** Registered by scripts/services/temporal.sh; the lifecycle upserts them as keywords. */
async function checkSearchAttributes(connection: Connection, namespace: string): Promise<CheckResult> {
  const wanted = Object.values(searchAttributes);
  try {
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    const problems = searchAttributeProblems(customAttributes ?? {}, wanted);
    if (!problems.length) return pass('search attributes', `${wanted.join(', ')} (keywords)`);
    const create = wanted.map((name) => `--name ${name} --type Keyword`).join(' ');
    return fail(
      'search attributes',
      `${problems.join('; ')}: the lifecycle cannot record its stage, and the Web UI cannot filter by model`,
      `temporal operator search-attribute create --namespace ${namespace} ${create} (or let bash scripts/services.sh start temporal do it)`,
    );
  } catch (e) {
    return warn('search attributes', `could not list them: ${messageOf(e)}`, 'check them by hand: temporal operator search-attribute list');
  }
}

/** What is wrong with a namespace's custom search attributes (name → IndexedValueType), in words. */
export function searchAttributeProblems(custom: Record<string, number | null | undefined>, wanted: readonly string[]): string[] {
  const types = proto.temporal.api.enums.v1.IndexedValueType;
  const keyword = types.INDEXED_VALUE_TYPE_KEYWORD;
  const missing = wanted.filter((name) => custom[name] === undefined || custom[name] === null);
  const mistyped = wanted.filter((name) => !missing.includes(name) && custom[name] !== keyword);
  return [
    ...(missing.length ? [`${missing.join(', ')} not registered`] : []),
    ...mistyped.map((name) => `${name} is ${(types[custom[name]!] ?? String(custom[name])).replace('INDEXED_VALUE_TYPE_', '').toLowerCase()}, not keyword`),
  ];
}

async function checkWorker(ctx: Parameters<typeof lastPollOf>[0], queue: string, type: 'workflow' | 'activity', serves: string): Promise<CheckResult> {
  const check = `worker ${queue}`;
  const lastPoll = await lastPollOf(ctx, queue, type);
  if (lastPoll === undefined) return warn(check, 'the server would not describe the task queue', 'check it in the Web UI (Workers tab of any lifecycle)');
  if (lastPoll !== null && isLive(lastPoll)) return pass(check, `polled ${Math.max(0, Math.round((Date.now() - lastPoll) / 1000))} s ago (${serves})`);
  const since = lastPoll === null ? 'no worker has polled it lately' : `the last poll was ${Math.round((Date.now() - lastPoll) / 60_000)} min ago`;
  return fail(check, `${since}: ${serves} wait until one does`, START_WORKER);
}

async function checkEmbeddedRegistry(client: Client, config: MlcConfig): Promise<CheckResult> {
  try {
    const models = await workerRegistry(client).listModels();
    return pass('registry', `embedded (PGlite under ${config.paths.data}/registry, in the worker's process): ${plural(models.length, 'model')}`);
  } catch (e) {
    return fail(
      'registry',
      `embedded, read through the worker: ${messageOf(e)}`,
      "the worker's log says why (.data/logs/worker.log under npm run demo); restart it",
    );
  }
}

async function checkPostgresRegistry(config: MlcConfig, databaseUrl: string): Promise<CheckResult> {
  const where = redactUrl(databaseUrl);
  try {
    const registry = await openRegistry({ databaseUrl, dataDir: config.paths.data });
    try {
      const models = await registry.listModels();
      return pass('registry', `PostgreSQL ${where}, schema up to date: ${plural(models.length, 'model')}`);
    } finally {
      await registry.close();
    }
  } catch (e) {
    return fail(
      'registry',
      `PostgreSQL ${where}: ${messageOf(e)}`,
      'start PostgreSQL or fix DATABASE_URL (postgres://user@host:port/database); the workers must use the same one',
    );
  }
}

/** The Web UI decodes through it: reachable, answering with the token, encrypting with a key this configuration holds. */
async function checkCodecServer(config: MlcConfig, keyring: Keyring | undefined, env: NodeJS.ProcessEnv): Promise<CheckResult> {
  const { host, port } = config.temporal.codec.server;
  const url = localUrl(host, port);
  const check = 'codec server';
  const down = 'the Web UI shows payloads as ciphertext until it runs';
  const health = await fetch(`${url}/health`, { signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) }).catch((e: unknown) => e as Error);
  if (health instanceof Error)
    return warn(check, `nothing answers at ${url} (${messageOf(health.cause ?? health)}): ${down}`, 'bash scripts/services.sh start codec');
  if (!keyring) return skip(check, `answers at ${url}; its keys not compared: this mlc has none`);
  const probe = `mlc doctor ${new Date().toISOString()}`;
  try {
    const token = await loadCodecServerToken(config.temporal.codec.server, env);
    const response = await fetch(`${url}/encode`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ payloads: [toJson({ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(JSON.stringify(probe)) })] }),
      signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
    });
    const body = (await response.json().catch(() => ({}))) as { payloads?: JsonPayload[]; error?: string };
    if (!response.ok || !body.payloads?.[0]) {
      return fail(
        check,
        `${url}/encode answered HTTP ${response.status}${body.error ? `: ${body.error}` : ''}`,
        `restart it with this configuration: bash scripts/services.sh stop codec && bash scripts/services.sh start codec`,
      );
    }
    const payload = fromJson(body.payloads[0]);
    const keyId = Buffer.from(payload.metadata?.[KEY_ID_METADATA] ?? []).toString('utf8');
    try {
      const [decoded] = await new EncryptionCodec(keyring).decode([payload]);
      if (Buffer.from(decoded!.data ?? []).toString('utf8') !== JSON.stringify(probe)) throw new Error('the decrypted payload differs from what was sent');
    } catch (e) {
      return fail(
        check,
        `${url} encrypts with key ${keyId || '(none named)'}, which this configuration cannot decrypt with (${messageOf(e)}): the Web UI and the workers read different keys`,
        `give the codec server the keys the workers use (env ${config.temporal.codec.keysEnv} or ${config.temporal.codec.keyFiles.join(', ')}) and restart it`,
      );
    }
    return pass(check, `${url}: encrypts with ${keyId}, which this configuration decrypts (the Web UI decodes what workers write)`);
  } catch (e) {
    return fail(check, `${url}: ${messageOf(e)}`, 'bash scripts/services.sh stop codec && bash scripts/services.sh start codec');
  }
}

/** Written, read back and checksummed through the same port the activities use; a warning below lowDiskBytes free. */
export async function checkArtifacts(config: MlcConfig, lowDiskBytes = LOW_DISK_BYTES): Promise<CheckResult> {
  const root = config.paths.artifacts;
  const fixWrite = root.startsWith('azblob://')
    ? 'check that the container exists and this identity may write blobs (MLC_ARTIFACTS_CONNECTION_STRING, or the Azure identity)'
    : `create ${root} and let this user write it (on TrueNAS: mount the NFS share there read-write), or set MLC_ARTIFACTS_ROOT`;
  try {
    const store = await openConfiguredArtifactStore(config);
    const body = JSON.stringify({ checkedAt: new Date().toISOString(), host: hostname(), pid: process.pid });
    const written = await store.put(DOCTOR_ARTIFACT_KEY, body);
    const readBack = await store.get(DOCTOR_ARTIFACT_KEY);
    const sha256 = createHash('sha256').update(readBack).digest('hex');
    if (sha256 !== written.sha256 || (await store.sha256(DOCTOR_ARTIFACT_KEY)) !== written.sha256) {
      return fail(
        'artifacts',
        `${store.uriOf(DOCTOR_ARTIFACT_KEY)} read back with another checksum than it was written with`,
        'the storage is corrupting or caching writes: check the NFS mount options (sync) and the share',
      );
    }
    const detail = `${store.rootUri}: wrote, read back and verified ${DOCTOR_ARTIFACT_KEY}`;
    if (root.startsWith('azblob://')) return pass('artifacts', detail);
    const free = await freeBytes(root);
    if (free !== null && free < lowDiskBytes) {
      return warn(
        'artifacts',
        `${detail}; only ${(free / 1024 ** 3).toFixed(1)} GiB free there`,
        'free space or move the store: a training run writes checkpoints and model files',
      );
    }
    return pass('artifacts', `${detail}${free === null ? '' : `; ${(free / 1024 ** 3).toFixed(0)} GiB free`}`);
  } catch (e) {
    return fail('artifacts', `${root}: ${messageOf(e)}`, fixWrite);
  }
}

async function freeBytes(folder: string): Promise<number | null> {
  const s = await statfs(folder.startsWith('file://') ? new URL(folder) : folder).catch(() => null);
  return s ? s.bavail * s.bsize : null;
}

async function checkEndpoint(config: MlcConfig): Promise<CheckResult> {
  const { host, port } = config.endpoint;
  const url = localUrl(host, port);
  const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) }).catch((e: unknown) => e as Error);
  if (response instanceof Error) {
    return warn(
      'endpoint',
      `nothing answers at ${url} (${messageOf(response.cause ?? response)}): needed once a version is deployed to the built-in endpoint`,
      `the worker serves it (npm run worker; alone: npm run worker -- endpoint); MLC_ENDPOINT_PORT moves it`,
    );
  }
  const body = (await response.json().catch(() => null)) as { status?: string; models?: { model: string; version: number }[] } | null;
  if (!response.ok || body?.status !== 'ok') {
    return fail(
      'endpoint',
      `${url}/health answered HTTP ${response.status}, not the built-in endpoint's health`,
      `another program holds port ${port}: stop it, or set MLC_ENDPOINT_PORT`,
    );
  }
  const models = body.models ?? [];
  return pass(
    'endpoint',
    `${url}: ${models.length ? `serving ${models.map((m) => `${m.model} v${m.version}`).join(', ')}` : 'up; it loads a deployed version on its first request for it'}`,
  );
}

/** The quick half of `mlc cluster check`: login and scheduler (or the local folder), no probe job. */
async function checkClusterLogin(config: MlcConfig, name: string, cluster: MlcConfig['clusters'][string]): Promise<CheckResult> {
  const report = await checkCluster(name, cluster, { workerArtifacts: config.paths.artifacts, quick: true });
  const failed = report.results.find((r) => r.status === 'fail');
  const check = `cluster ${name}`;
  const full = `the whole check, with a probe job: mlc cluster check ${name}`;
  if (failed) return fail(check, `${failed.check}: ${failed.detail}`, `${failed.fix ?? 'see the message'}; then ${full}`);
  return { ...pass(check, report.results.map((r) => `${r.check}: ${r.detail}`).join('; ')), fix: full };
}

/**
 * What a deployment to Azure ML needs first: the credential gets a token the workspace accepts,
 * the workspace exists, and its Blob datastore (where packages are uploaded) answers. Read-only
 * but for the datastore's container, which is created when missing, as the first upload would.
 */
async function checkWorkspace(name: string, workspace: MlcConfig['workspaces'][string]): Promise<CheckResult> {
  const check = `workspace ${name}`;
  const { workspaceClients } = await import('../adapters/azureml/client');
  const { fromAzure } = await import('../adapters/azureml/errors');
  try {
    const clients = workspaceClients(workspace);
    const found = await clients.arm.workspaces.get(workspace.resourceGroup, workspace.workspace);
    const container = await clients.datastore();
    let endpoints = 0;
    for await (const _endpoint of clients.arm.onlineEndpoints.list(workspace.resourceGroup, workspace.workspace)) endpoints++;
    return pass(
      check,
      `${workspace.workspace} in resource group ${workspace.resourceGroup} (${found.location ?? workspace.location}); datastore ${workspace.datastore} is container ${container.containerName}; ${plural(endpoints, 'online endpoint')}`,
    );
  } catch (e) {
    return fail(
      check,
      messageOf(fromAzure(`reading workspace ${workspace.workspace}`, e)),
      `fix workspaces.${name} in the MLC_CONFIG file (subscriptionId, resourceGroup, workspace, datastore, credential) or the Azure identity, as the message says; mlc config show prints what is in force`,
    );
  }
}
