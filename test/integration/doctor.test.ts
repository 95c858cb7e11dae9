// `mlc doctor` as an operator runs it, against the real services: with every part up (the three
// worker roles in their own processes on a PostgreSQL registry, a codec server holding this
// run's keys) every check passes; then each broken part fails on its own line with its fix while
// the others still pass, and storage that never answers is reported as hung instead of hanging
// the command. A fresh Temporal namespace, database, data folder and ports per run.
// Needs `bash scripts/services.sh start` (npm test runs it).
import { Connection } from '@temporalio/client';
import Long from 'long';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCodecServer, type CodecServer } from '../../adapters/temporal-codec/codec-server';
import { loadCodec } from '../../adapters/temporal-codec/data-converter';
import { newKeyEntry } from '../../adapters/temporal-codec/keys';
import { loadCodecServerToken } from '../../adapters/temporal-codec/server-token';
import type { CheckResult } from '../../domain/checks';
import { DOCTOR_ARTIFACT_KEY } from '../../cli/doctor-checks';
import { EMULATED_WORKSPACE, startEmulatedAzure } from '../../infra/azure-emulated/stack';
import { loadConfig } from '../../temporal.config';
import { freePort, mlc, startWorker, stopAll } from '../e2e/process-helpers';
import { registerFreshNamespace } from '../e2e/temporal-helpers';

const run = Date.now().toString(36);
const namespace = `mlc-doctor-${run}`;
const adminUrl = Object.assign(new URL(process.env.MLC_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/mlc_test'), { pathname: '/postgres' });
const dbName = `mlc_doctor_${run}`;
const temporalAddress = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';

let dir: string;
let env: NodeJS.ProcessEnv;
const codecServers: CodecServer[] = [];

async function admin(statement: string): Promise<void> {
  const db = postgres(adminUrl.toString(), { max: 1, onnotice: () => {} });
  try {
    await db.unsafe(statement);
  } finally {
    await db.end();
  }
}

/** A codec server like scripts/services/codec.sh runs, holding the given key, on a free port. */
async function codecServer(keyEntry: string): Promise<CodecServer> {
  const config = loadConfig({ ...env, MLC_CODEC_KEYS: keyEntry });
  const server = await startCodecServer({
    host: '127.0.0.1',
    port: 0,
    codec: await loadCodec(config.temporal.codec, { MLC_CODEC_KEYS: keyEntry }),
    token: await loadCodecServerToken(config.temporal.codec.server, env),
    tokenSource: config.temporal.codec.server.tokenFile,
    uiUrl: config.temporal.uiUrl,
  });
  codecServers.push(server);
  return server;
}

async function doctor(extra: NodeJS.ProcessEnv = {}, ...args: string[]) {
  const r = await mlc({ ...env, ...extra }, 'doctor', '--json', ...args);
  const report = JSON.parse(r.stdout || '{}') as { ok?: boolean; results?: CheckResult[] };
  const results = report.results ?? [];
  const line = (check: string): CheckResult => {
    const found = results.find((x) => x.check === check);
    if (!found) throw new Error(`no "${check}" line:\n${r.stdout}\n${r.stderr}`);
    return found;
  };
  const statuses = Object.fromEntries(results.map((x) => [x.check, x.status]));
  return { ...r, ok: report.ok, line, statuses };
}

beforeAll(async () => {
  await admin(`create database "${dbName}"`);
  dir = await mkdtemp(path.join(tmpdir(), 'mlc-doctor-'));
  const connection = await Connection.connect({ address: temporalAddress });
  try {
    await registerFreshNamespace(connection, namespace);
  } finally {
    await connection.close();
  }
  const ssh = path.join(loadConfig().paths.data, 'ssh');
  env = {
    ...process.env,
    MLC_CONFIG: '',
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_NAMESPACE: namespace,
    DATABASE_URL: Object.assign(new URL(adminUrl), { pathname: `/${dbName}` }).toString(),
    MLC_DATA_DIR: dir,
    MLC_ARTIFACTS_ROOT: path.join(dir, 'artifacts'),
    MLC_CODEC_KEYS: newKeyEntry(),
    MLC_ENDPOINT_HOST: '127.0.0.1',
    MLC_ENDPOINT_PORT: String(await freePort()),
    // The dev cluster's login, which lives with the repository's own data.
    MLC_SLURM_KEY: path.join(ssh, 'id_ed25519'),
    MLC_SLURM_KNOWN_HOSTS: path.join(ssh, 'known_hosts'),
  };
  env.MLC_CODEC_SERVER_PORT = String(new URL((await codecServer(env.MLC_CODEC_KEYS!)).url).port);
  await Promise.all(['control', 'scoring', 'endpoint'].map((role) => startWorker(role, env)));
}, 180_000);

afterAll(async () => {
  await stopAll();
  await Promise.all(codecServers.map((s) => s.close()));
  await admin(`drop database if exists "${dbName}" with (force)`).catch(() => undefined);
});

describe('mlc doctor', () => {
  it('passes every check when every part is up, each saying what it found', async () => {
    const r = await doctor();
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.ok).toBe(true);
    expect(r.statuses).toEqual({
      temporal: 'pass',
      namespace: 'pass',
      'search attributes': 'pass',
      'payload keys': 'pass',
      'codec server': 'pass',
      'worker mlc-control': 'pass',
      'worker mlc-scoring': 'pass',
      registry: 'pass',
      artifacts: 'pass',
      endpoint: 'pass',
      'cluster local': 'pass',
      'cluster local-process': 'pass',
    });
    expect(r.line('namespace').detail).toBe(`${namespace}, closed histories kept 1 day`);
    expect(r.line('registry').detail).toMatch(new RegExp(`^PostgreSQL postgres://postgres@127\\.0\\.0\\.1:5432/${dbName}, schema up to date: 0 models$`));
    expect(r.line('cluster local').detail).toMatch(/^ssh: .* host key matches .*; slurm: sinfo lists cpu\* \(up\)$/);
    expect(r.line('endpoint').detail).toBe(`http://127.0.0.1:${env.MLC_ENDPOINT_PORT}: up; it loads a deployed version on its first request for it`);
    // The artifact check went through the store: the file it wrote is there, naming this run.
    const written = JSON.parse(await readFile(path.join(dir, 'artifacts', DOCTOR_ARTIFACT_KEY), 'utf8')) as { pid: number };
    expect(written.pid).toBeGreaterThan(0);

    const text = await mlc(env, 'doctor');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^✓ worker mlc-scoring +polled \d+ s ago \(evaluation and monitoring\)$/m);
    expect(text.stdout.trim().split('\n').at(-1)).toBe('all checks passed');
  });

  it('fails each broken part on its own line with its fix, and checks the rest regardless', async () => {
    const otherKeys = await codecServer(newKeyEntry());
    const file = path.join(dir, 'a-file');
    await writeFile(file, 'not a folder');
    const r = await doctor({
      TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`,
      MLC_CODEC_SERVER_PORT: new URL(otherKeys.url).port,
      MLC_ARTIFACTS_ROOT: path.join(file, 'artifacts'),
      MLC_ENDPOINT_PORT: String(await freePort()),
    });
    expect(r.code).toBe(1);
    expect(r.ok).toBe(false);
    expect(r.statuses).toMatchObject({
      temporal: 'fail',
      namespace: 'skip',
      'search attributes': 'skip',
      'payload keys': 'pass',
      'codec server': 'fail',
      'worker mlc-control': 'skip',
      'worker mlc-scoring': 'skip',
      // PostgreSQL does not need Temporal: still read.
      registry: 'pass',
      artifacts: 'fail',
      endpoint: 'warn',
      'cluster local': 'pass',
    });
    expect(r.line('temporal').fix).toContain('bash scripts/services.sh start temporal');
    expect(r.line('codec server').detail).toMatch(
      /encrypts with key k\S+, which this configuration cannot decrypt with .*: the Web UI and the workers read different keys/,
    );
    expect(r.line('artifacts').detail).toContain('ENOTDIR');
    expect(r.line('artifacts').fix).toContain('MLC_ARTIFACTS_ROOT');
    expect(r.line('endpoint').detail).toMatch(/^nothing answers at http:\/\/127\.0\.0\.1:\d+ \(connect ECONNREFUSED/);
  });

  it('names search attributes a namespace lacks, and workers that do not poll it, with the commands that fix them', async () => {
    const bare = `${namespace}-bare`;
    const connection = await Connection.connect({ address: temporalAddress });
    try {
      await connection.workflowService.registerNamespace({ namespace: bare, workflowExecutionRetentionPeriod: { seconds: Long.fromNumber(86_400) } });
      // A fresh namespace takes a moment to answer.
      for (let i = 0; i < 40; i++) {
        if (
          await connection.workflowService.describeNamespace({ namespace: bare }).then(
            () => true,
            () => false,
          )
        )
          break;
        await new Promise((res) => setTimeout(res, 250));
      }
    } finally {
      await connection.close();
    }
    const r = await doctor({ TEMPORAL_NAMESPACE: bare });
    expect(r.code).toBe(1);
    const attributes = r.line('search attributes');
    expect(attributes.status).toBe('fail');
    expect(attributes.detail).toMatch(/^MlcStage, MlcModel, MlcVersion not registered: /);
    expect(attributes.fix).toContain(`temporal operator search-attribute create --namespace ${bare} --name MlcStage --type Keyword`);
    for (const queue of ['mlc-control', 'mlc-scoring']) {
      expect(r.line(`worker ${queue}`)).toMatchObject({ status: 'fail', detail: expect.stringMatching(/^no worker has polled it lately: /) });
      expect(r.line(`worker ${queue}`).fix).toContain('npm run worker');
    }
  });

  it('reports storage that never answers as hung, within --timeout, instead of waiting for it', async () => {
    // procfs answers mkdir with ENOENT, which Node's recursive mkdir retries for ever: storage
    // that never answers, as a hard NFS mount does when its server is gone.
    const started = Date.now();
    const r = await doctor({ MLC_ARTIFACTS_ROOT: `/proc/mlc-doctor-${run}` }, '--timeout', '3');
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(r.code).toBe(1);
    expect(r.line('artifacts')).toMatchObject({ status: 'fail', detail: `no answer within 3 s: the artifact store at /proc/mlc-doctor-${run} hangs` });
    expect(r.line('artifacts').fix).toContain('hard-mounted NFS share');
    expect(r.line('temporal').status).toBe('pass');
  });

  it('checks each Azure ML workspace (credential, workspace, Blob datastore) and names a credential Azure refuses', async () => {
    const azureDir = path.join(dir, 'azure');
    const azure = await startEmulatedAzure(azureDir, { opDurationMs: 200, retryAfterSeconds: 0 });
    try {
      const check = `workspace ${EMULATED_WORKSPACE}`;
      const up = await doctor(azure.env);
      expect(up.code, up.stdout).toBe(0);
      expect(up.line(check)).toMatchObject({
        status: 'pass',
        detail: expect.stringMatching(/^\S+ in resource group \S+ \(\S+\); datastore workspaceblobstore is container \S+; 0 online endpoints$/),
      });
      // The token the emulator expects, replaced: ARM answers 401 AuthenticationFailed.
      await writeFile(path.join(azureDir, 'arm-token'), 'a-token-azure-never-issued');
      const refused = await doctor(azure.env);
      expect(refused.code).toBe(1);
      expect(refused.line(check).status).toBe('fail');
      expect(refused.line(check).detail).toMatch(/^Azure refused the worker's credentials: reading workspace \S+: 401 AuthenticationFailed/);
      expect(refused.line(check).fix).toContain(`workspaces.${EMULATED_WORKSPACE}`);
      expect(refused.line('temporal').status).toBe('pass');
    } finally {
      await azure.stop();
    }
  });

  it('refuses a --timeout that is not a number of seconds', async () => {
    const r = await mlc(env, 'doctor', '--timeout', 'soon');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--timeout soon: a number of seconds');
  });
});
