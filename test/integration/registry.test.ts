// The registry against both real backends: embedded PGlite (temp folder) and PostgreSQL
// (MLC_TEST_DATABASE_URL). One suite, run twice, so the two cannot drift apart.
import { spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import postgres from 'postgres';
import { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import { openRegistry } from '../../adapters/db/open';
import type { Registry } from '../../adapters/db/port';
import {
  AliasRefusedError,
  DeploymentChangedError,
  RegistryConflictError,
  InvalidFeedbackError,
  RegistryConnectionError,
  RegistryLockedError,
  RunNotFoundError,
  UnknownModelVersionError,
} from '../../adapters/db/errors';

const pgUrl = process.env.MLC_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/mlc_test';
const tables = [
  'models',
  'dataset_versions',
  'runs',
  'model_versions',
  'decisions',
  'deployments',
  'predictions',
  'feedback',
  'monitoring_reports',
  'signing_keys',
  'metric_history',
  'model_aliases',
  'model_alias_events',
];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const migrationsFolder = join(import.meta.dirname, '../../adapters/db/migrations');
/** How many migrations the repo has: a database opened by the registry has run all of them. */
const migrationCount = async () => (JSON.parse(await readFile(join(migrationsFolder, 'meta/_journal.json'), 'utf8')) as { entries: unknown[] }).entries.length;

/** Create the test database if missing, then drop our tables so each run starts fresh. */
async function resetPostgres(): Promise<void> {
  const url = new URL(pgUrl);
  const dbName = decodeURIComponent(url.pathname.slice(1));
  url.pathname = '/postgres';
  const admin = postgres(url.toString(), { max: 1, onnotice: () => {} });
  try {
    const found = await admin`select 1 from pg_database where datname = ${dbName}`;
    if (found.length === 0) await admin.unsafe(`create database "${dbName.replace(/"/g, '""')}"`);
  } finally {
    await admin.end();
  }
  await withPostgres((sql) => sql.unsafe(`drop schema if exists drizzle cascade; drop table if exists ${tables.join(', ')} cascade`));
}

async function withPostgres<T>(fn: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(pgUrl, { max: 1, onnotice: () => {} });
  try {
    return await fn(sql);
  } finally {
    await sql.end();
  }
}

interface Backend {
  name: string;
  /** Prepare an empty database; returns how to open the registry on it. */
  fresh(): Promise<{
    open(): Promise<Registry>;
    query(text: string): Promise<Record<string, unknown>[]>;
    /** Applies the migrations in `folder` only: a registry as an older release left it. */
    migrateWith(folder: string): Promise<void>;
  }>;
}

const backends: Backend[] = [
  {
    name: 'pglite',
    async fresh() {
      const dataDir = await mkdtemp(join(tmpdir(), 'mlc-registry-'));
      return {
        open: () => openRegistry({ dataDir }),
        // Only while the registry is closed: PGlite is single-process, single-opener.
        async query(text) {
          const pg = await PGlite.create(join(dataDir, 'registry'));
          try {
            return (await pg.query<Record<string, unknown>>(text)).rows;
          } finally {
            await pg.close();
          }
        },
        async migrateWith(folder) {
          const pg = await PGlite.create(join(dataDir, 'registry'));
          try {
            await migratePglite(drizzlePglite({ client: pg }), { migrationsFolder: folder });
          } finally {
            await pg.close();
          }
        },
      };
    },
  },
  {
    name: 'postgres',
    async fresh() {
      await resetPostgres();
      return {
        open: () => openRegistry({ databaseUrl: pgUrl, dataDir: '/nonexistent-unused' }),
        query: (text) => withPostgres(async (sql) => [...(await sql.unsafe(text))]),
        migrateWith: (folder) => withPostgres((sql) => migratePostgres(drizzlePostgres({ client: sql }), { migrationsFolder: folder })),
      };
    },
  },
];

/** A deployment record of a model's version on the built-in endpoint, by bob. */
const deployment = (model: string, deploymentKey: string, version: number) => ({
  model,
  version,
  target: 'local',
  endpointUrl: 'http://127.0.0.1:8080',
  artifactSha256: `sha${version}`,
  actor: 'bob',
  deploymentKey,
});

describe.each(backends)('registry on $name', (backend) => {
  let db: Awaited<ReturnType<Backend['fresh']>>;
  let registry: Registry;

  beforeAll(async () => {
    db = await backend.fresh();
  });
  afterAll(async () => {
    await registry?.close();
  });

  const run = (runKey: string, model = 'sentiment') => ({
    runKey,
    model,
    generation: 1,
    attempt: 1,
    datasetHash: 'd1',
    cluster: 'local',
    params: { lr: 0.001, epochs: 3 },
    artifactUri: `file:///a/${runKey}`,
  });

  it('migrates a fresh database, and re-opening keeps data without migrating again', async () => {
    registry = await db.open();
    await registry.ensureModel('sentiment', { version: 1 });
    await registry.ensureModel('sentiment', { version: 2, nested: { a: [1, 2] } });
    expect(await registry.modelSpec('sentiment')).toEqual({ version: 2, nested: { a: [1, 2] } });
    expect(await registry.modelSpec('never-seen')).toBeNull();
    const dataset = { model: 'sentiment', hash: 'd1', uri: 'file:///d1', report: { rows: 10 } };
    await registry.recordDatasetVersion(dataset);
    await registry.recordDatasetVersion({ ...dataset, uri: 'file:///elsewhere' });
    await registry.createRun(run('persisted'));
    await registry.close();

    const [migrations] = await db.query('select count(*)::int as n from drizzle.__drizzle_migrations');
    expect(migrations).toEqual({ n: await migrationCount() });
    // jsonb must hold an object, not a JSON string of one (a classic driver pitfall).
    const models = await db.query(`select name, jsonb_typeof(spec) as kind, spec from models`);
    expect(models).toEqual([{ name: 'sentiment', kind: 'object', spec: { version: 2, nested: { a: [1, 2] } } }]);
    const datasets = await db.query('select model, hash, uri, report from dataset_versions');
    expect(datasets).toEqual([dataset]);

    registry = await db.open();
    expect((await registry.getRun('persisted'))?.runKey).toBe('persisted');
    await registry.close();
    expect(await db.query('select count(*)::int as n from drizzle.__drizzle_migrations')).toEqual([{ n: await migrationCount() }]);
    registry = await db.open();
  });

  it('creates a run once and updates it', async () => {
    await registry.createRun(run('r1'));
    await registry.createRun({ ...run('r1'), params: { lr: 9 } }); // a retry: first write wins
    expect(await registry.getRun('r1')).toEqual({
      ...run('r1'),
      trial: null,
      state: 'submitted',
      slurmJobId: null,
      metrics: {},
      error: null,
    });
    await registry.updateRun('r1', { state: 'queued', slurmJobId: '4242' });
    await registry.updateRun('r1', { state: 'failed', error: 'OOM' });
    await registry.updateRun('r1', { state: 'succeeded', error: null, metrics: { f1: 0.91 }, finished: true });
    await registry.updateRun('r1', { state: 'succeeded', finished: true }); // repeat is harmless
    expect(await registry.getRun('r1')).toMatchObject({
      state: 'succeeded',
      slurmJobId: '4242',
      error: null,
      metrics: { f1: 0.91 },
      params: { lr: 0.001, epochs: 3 },
    });
    await registry.updateRun('r1', { metrics: { test_f1: 0.8, f1: 0.92 } }); // metrics accumulate
    expect((await registry.getRun('r1'))?.metrics).toEqual({ f1: 0.92, test_f1: 0.8 });
    await registry.createRun({ ...run('r1-trial'), trial: 3 });
    expect((await registry.getRun('r1-trial'))?.trial).toBe(3);
    expect(await registry.getRun('missing')).toBeNull();
    await expect(registry.updateRun('missing', { state: 'running' })).rejects.toBeInstanceOf(RunNotFoundError);
  });

  it('numbers model versions per model, the same run keeping its version', async () => {
    const v = (model: string, runKey: string, sha256 = `sha-${runKey}`) =>
      registry.registerModelVersion({ model, runKey, artifactUri: `file:///m/${runKey}`, sha256, metrics: { f1: 0.9 } });
    expect(await v('versions', 'va')).toBe(1);
    expect(await v('versions', 'vb')).toBe(2);
    expect(await v('versions', 'va')).toBe(1);
    expect(await v('versions-other', 'vc')).toBe(1);
    await expect(v('versions', 'va', 'a-different-file')).rejects.toBeInstanceOf(RegistryConflictError);

    const got = await registry.getModelVersion('versions', 2);
    expect(got).toMatchObject({ model: 'versions', version: 2, runKey: 'vb', sha256: 'sha-vb', metrics: { f1: 0.9 } });
    expect(new Date(got!.createdAt).toISOString()).toBe(got!.createdAt);
    expect(await registry.getModelVersion('versions', 99)).toBeNull();
  });

  it('gives concurrent registrations distinct consecutive versions', async () => {
    const keys = Array.from({ length: 12 }, (_, i) => `conc-${i}`);
    const register = (runKey: string) => registry.registerModelVersion({ model: 'concurrent', runKey, artifactUri: 'x', sha256: runKey, metrics: {} });
    const versions = await Promise.all([...keys, ...keys].map(register));
    expect(new Set(versions.slice(0, 12)).size).toBe(12);
    expect([...versions.slice(0, 12)].sort((a, b) => a - b)).toEqual(keys.map((_, i) => i + 1));
    expect(versions.slice(12)).toEqual(versions.slice(0, 12));
  });

  it('records each decision once and lists them by decision time', async () => {
    const decision = (key: string, decidedAt: string, extra = {}) => ({
      model: 'decided',
      version: 1,
      kind: 'audit' as const,
      outcome: 'approved' as const,
      actor: 'alice',
      reason: 'metrics meet the spec',
      artifactSha256: 'abc',
      workflowId: 'wf-1',
      decidedAt,
      decisionKey: key,
      ...extra,
    });
    await registry.recordDecision(decision('d2', '2025-01-02T00:00:00.000Z', { outcome: 'rejected', reason: 'bias' }));
    await registry.recordDecision(decision('d1', '2025-01-01T00:00:00.000Z'));
    await registry.recordDecision(decision('d3', '2025-01-03T00:00:00.000Z', { kind: 'retrain', outcome: 'requested', version: null, artifactSha256: null }));
    await registry.recordDecision(decision('d1', '2025-01-09T00:00:00.000Z', { actor: 'mallory' })); // replayed signal
    const listed = await registry.listDecisions('decided');
    expect(listed.map((d) => d.decisionKey)).toEqual(['d1', 'd2', 'd3']);
    const { id, ...first } = listed[0]!;
    expect(typeof id).toBe('number');
    expect(first).toEqual(decision('d1', '2025-01-01T00:00:00.000Z'));
    expect(listed[2]).toMatchObject({ version: null, artifactSha256: null, kind: 'retrain', outcome: 'requested' });
    expect(await registry.listDecisions('nobody')).toEqual([]);
  });

  it('treats the newest deployment as active, rollbacks included', async () => {
    const deploy = (key: string, version: number) => deployment('deployed', key, version);
    expect(await registry.activeDeployment('deployed')).toBeNull();
    await registry.recordDeployment(deploy('dep-1', 1));
    await registry.recordDeployment(deploy('dep-2', 2));
    expect(await registry.activeDeployment('deployed')).toMatchObject({ version: 2, deploymentKey: 'dep-2' });
    await registry.recordDeployment(deploy('rollback-1', 1));
    await registry.recordDeployment(deploy('dep-2', 2)); // a retried activity must not undo the rollback
    const active = await registry.activeDeployment('deployed');
    expect(active).toMatchObject(deploy('rollback-1', 1));
    expect(Number.isNaN(Date.parse(active!.deployedAt))).toBe(false);
    expect(await registry.deployedModels()).toContain('deployed');
    expect(await registry.deployedModels()).not.toContain('never-deployed');
  });

  it('retires the live deployment once: nothing served, champion removed on the record, a later deployment serves again', async () => {
    const model = 'retired';
    const deploy = (key: string, version: number) => deployment(model, key, version);
    const retire = { model, actor: 'bob', reason: 'the product is retired', retireKey: 'wf/g1/stop-1' };
    expect(await registry.retireDeployment(retire)).toEqual({ retired: null }); // nothing deployed yet
    await registry.recordDeployment(deploy('ret-1', 1));
    await registry.recordDeployment(deploy('ret-2', 2));
    // mlc undeploy judged version 1, but version 2 was deployed since: nothing is taken off.
    await expect(registry.retireDeployment({ ...retire, version: 1 })).rejects.toThrow(new DeploymentChangedError(model, 1, 2));
    expect(await registry.activeDeployment(model)).toMatchObject({ version: 2 });
    expect(await registry.retireDeployment({ ...retire, version: 2 })).toEqual({ retired: 2 });
    expect(await registry.retireDeployment(retire)).toEqual({ retired: 2 }); // a retried activity
    expect(await registry.activeDeployment(model)).toBeNull(); // not the older version 1 either
    expect(await registry.deployedModels()).not.toContain(model);
    expect((await registry.listModelAliases(model)).map((a) => a.alias)).not.toContain('champion');
    const removed = (await registry.aliasHistory(model)).filter((e) => e.alias === 'champion').at(-1);
    expect(removed).toMatchObject({ previousVersion: 2, version: null, setBy: 'bob', reason: 'taken off the endpoint: the product is retired' });

    await registry.recordDeployment(deploy('ret-3', 1)); // a new lifecycle deploys again
    expect(await registry.activeDeployment(model)).toMatchObject({ version: 1, deploymentKey: 'ret-3' });
    expect(await registry.deployedModels()).toContain(model);
    expect((await registry.listModelAliases(model)).find((a) => a.alias === 'champion')?.version).toBe(1);
  });

  it('lists models by name with their versions, the version served and the last decision', async () => {
    await registry.ensureModel('listed-b', {});
    await registry.ensureModel('listed-a', {});
    for (const runKey of ['la-1', 'la-2']) {
      await registry.registerModelVersion({ model: 'listed-a', runKey, artifactUri: `file:///m/${runKey}`, sha256: runKey, metrics: {} });
    }
    await registry.recordDeployment(deployment('listed-a', 'la-dep-1', 1));
    const decision = { model: 'listed-a', version: 1, outcome: 'approved' as const, actor: 'bob', reason: 'r', workflowId: 'wf' };
    await registry.recordDecision({ ...decision, kind: 'deploy', decidedAt: '2026-01-02T03:04:05.000Z', decisionKey: 'la-d2' });
    await registry.recordDecision({ ...decision, kind: 'audit', actor: 'alice', decidedAt: '2026-01-01T00:00:00.000Z', decisionKey: 'la-d1' });
    const listed = async () => (await registry.listModels()).filter((m) => m.name.startsWith('listed-'));
    expect(await listed()).toEqual([
      {
        name: 'listed-a',
        registeredAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        versions: 2,
        latestVersion: 2,
        deployedVersion: 1,
        lastDecision: { kind: 'deploy', outcome: 'approved', actor: 'bob', version: 1, decidedAt: '2026-01-02T03:04:05.000Z' },
      },
      { name: 'listed-b', registeredAt: expect.any(String), versions: 0, latestVersion: null, deployedVersion: null, lastDecision: null },
    ]);
    await registry.retireDeployment({ model: 'listed-a', actor: 'bob', reason: 'retired', retireKey: 'la-retire' });
    expect((await listed())[0]).toMatchObject({ versions: 2, deployedVersion: null });
  });

  it('lists runs newest first with the version each became, and describes one', async () => {
    await registry.createRun(run('listed-1', 'listed'));
    await registry.createRun({ ...run('listed-2', 'listed'), params: { lr: 0.01 } });
    await registry.updateRun('listed-1', { state: 'succeeded', finished: true, metrics: { best_val_macro_f1: 0.7 }, gitCommit: 'a'.repeat(40) });
    await registry.registerModelVersion({ model: 'listed', runKey: 'listed-1', artifactUri: 'file:///a/listed-1', sha256: 's1', metrics: {} });
    const runs = await registry.listRuns('listed');
    expect(runs.map((r) => [r.runKey, r.version])).toEqual([
      ['listed-2', null],
      ['listed-1', 1],
    ]);
    const first = await registry.describeRun('listed-1');
    expect(first).toMatchObject({ state: 'succeeded', gitCommit: 'a'.repeat(40), metrics: { best_val_macro_f1: 0.7 }, version: 1, trial: null });
    expect(Date.parse(first!.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(first!.createdAt));
    expect((await registry.describeRun('listed-2'))?.finishedAt).toBeNull();
    // Finished again: the first finish stays. Live again (a resubmitted job): no finish, until the next.
    await registry.updateRun('listed-1', { finished: true });
    expect((await registry.describeRun('listed-1'))?.finishedAt).toBe(first!.finishedAt);
    await registry.updateRun('listed-1', { state: 'running', finished: false });
    expect((await registry.describeRun('listed-1'))?.finishedAt).toBeNull();
    await registry.updateRun('listed-1', { state: 'succeeded', finished: true });
    expect((await registry.describeRun('listed-1'))?.finishedAt).not.toBeNull();
    expect(await registry.describeRun('missing')).toBeNull();
    expect(await registry.listRuns('nobody')).toEqual([]);
  });

  it('keeps metric history once per run, metric and step, in step order', async () => {
    await registry.createRun(run('curves'));
    const points = [
      ...Array.from({ length: 600 }, (_, i) => ({ metric: 'loss', step: (i + 1) * 10, epoch: null, value: 1 / (i + 1) })),
      { metric: 'val_macro_f1', step: 3000, epoch: 1, value: 0.61 },
      { metric: 'val_macro_f1', step: 6000, epoch: 2, value: 0.72 },
    ];
    expect(await registry.recordMetricHistory('curves', [...points].reverse())).toBe(602);
    // A retried registration, with a changed value: the first write stays.
    expect(await registry.recordMetricHistory('curves', [{ ...points[0]!, value: 99 }, ...points])).toBe(0);
    const history = await registry.metricHistory('curves');
    expect(history).toHaveLength(602);
    expect(history.filter((p) => p.metric === 'loss').map((p) => p.step)).toEqual(points.slice(0, 600).map((p) => p.step));
    expect(history.find((p) => p.metric === 'loss' && p.step === 10)?.value).toBe(1);
    expect(history.filter((p) => p.metric === 'val_macro_f1')).toEqual(points.slice(600));
    expect(await registry.metricHistory('other')).toEqual([]);
  });

  it('moves aliases atomically, records each move once, and keeps champion for deployments', async () => {
    const model = 'aliased';
    for (const key of ['al-1', 'al-2', 'al-3']) {
      await registry.registerModelVersion({ model, runKey: key, artifactUri: `file:///m/${key}`, sha256: key, metrics: {} });
    }
    const change = (alias: string, version: number, changeKey: string) => ({ model, alias, version, setBy: 'carol', reason: `why ${changeKey}`, changeKey });
    expect(await registry.setModelAlias(change('challenger', 2, 'c1'))).toEqual({ applied: true, previousVersion: null });
    expect(await registry.setModelAlias(change('challenger', 3, 'c2'))).toEqual({ applied: true, previousVersion: 2 });
    expect(await registry.setModelAlias(change('challenger', 2, 'c1'))).toEqual({ applied: false, previousVersion: null }); // a retry
    await registry.setModelAlias(change('golden', 1, 'g1'));
    await expect(registry.setModelAlias(change('champion', 1, 'x1'))).rejects.toBeInstanceOf(AliasRefusedError);
    await expect(registry.setModelAlias(change('Not An Alias', 1, 'x2'))).rejects.toBeInstanceOf(AliasRefusedError);
    await expect(registry.setModelAlias(change('staging', 9, 'x3'))).rejects.toBeInstanceOf(UnknownModelVersionError);

    const deploy = (key: string, version: number) => deployment(model, key, version);
    await registry.recordDeployment(deploy('dep-a', 2));
    await registry.recordDeployment(deploy('dep-b', 3));
    await registry.recordDeployment(deploy('roll-a', 2));
    await registry.recordDeployment(deploy('dep-b', 3)); // a retried activity must not undo the rollback
    const aliases = await registry.listModelAliases(model);
    expect(aliases.map((a) => [a.alias, a.version, a.setBy])).toEqual([
      ['challenger', 3, 'carol'],
      ['champion', 2, 'bob'],
      ['golden', 1, 'carol'],
    ]);
    expect((await registry.activeDeployment(model))?.version).toBe(aliases.find((a) => a.alias === 'champion')?.version);
    const history = await registry.aliasHistory(model);
    expect(history.map((e) => [e.alias, e.previousVersion, e.version])).toEqual([
      ['challenger', null, 2],
      ['challenger', 2, 3],
      ['golden', null, 1],
      ['champion', null, 2],
      ['champion', 2, 3],
      ['champion', 3, 2],
    ]);
    expect(history[3]).toMatchObject({ setBy: 'bob', reason: expect.stringContaining('dep-a'), changeKey: 'deployment:dep-a' });
    expect(await registry.listModelAliases('nobody')).toEqual([]);
  });

  it('logs predictions once and returns them since a time, oldest first', async () => {
    const p = (requestId: string, text: string, model = 'predicted') => ({
      model,
      version: 1,
      requestId,
      text,
      label: 'pos',
      probabilities: { pos: 0.75, neg: 0.25 },
    });
    await registry.logPredictions([p('q1', 'ดีมาก'), p('q1', 'same request, other text'), p('q2', 'x'.repeat(10_000))]);
    await registry.logPredictions([]);
    await sleep(25);
    await registry.logPredictions([p('q3', 'later'), p('q3', 'later', 'another-model')]);
    await registry.logPredictions([p('q1', 'ดีมาก'), p('q3', 'later')]); // retried call

    const all = await registry.predictionsSince('predicted', '2000-01-01T00:00:00Z');
    expect(all.map((r) => r.requestId)).toEqual(['q1', 'q1', 'q2', 'q3']);
    expect(all[0]).toMatchObject(p('q1', 'ดีมาก'));
    const later = await registry.predictionsSince('predicted', all[3]!.createdAt);
    expect(later.map((r) => r.text)).toEqual(['later']);
    expect(await registry.predictionsSince('predicted', new Date(Date.now() + 60_000).toISOString())).toEqual([]);
  });

  it('logs every field of a prediction, 2,500 rows in one call, hostile text as data', async () => {
    const embedding = [0.5, -1.25, 1e-7, 3.4e38];
    const rows = Array.from({ length: 2500 }, (_, i) => ({
      model: 'bulk',
      version: 2,
      requestId: `r${i}`,
      text: i === 0 ? `'); drop table predictions; -- $1 \\ "ๆ"` : `ข้อความ ${i}`,
      label: 'neg',
      probabilities: { neg: 0.5, pos: 0.5 },
      embedding,
      tokens: 7,
      truncated: i % 2 === 0,
      fallbackTokens: 1,
    }));
    await registry.logPredictions(rows);
    await registry.logPredictions(rows.slice(0, 10)); // a retried call adds nothing
    const logged = await registry.predictionsSince('bulk', '2000-01-01T00:00:00Z');
    expect(logged).toHaveLength(2500);
    const byId = new Map(logged.map((r) => [r.requestId, r]));
    expect(byId.get('r0')).toMatchObject({ ...rows[0], embedding });
    expect(byId.get('r2499')).toMatchObject({ text: 'ข้อความ 2499', truncated: false, tokens: 7, fallbackTokens: 1 });
    expect(byId.get('r1')).toMatchObject({ textChars: 9, thaiChars: 7, digitChars: 1, spaceChars: 1 });
    // A call that fails part-way (a row the schema refuses, past the first statement) writes none of its rows.
    const broken = [
      ...rows.map((r) => ({ ...r, model: 'bulk-broken' })),
      { ...rows[0]!, model: 'bulk-broken', requestId: 'bad', label: null as unknown as string },
    ];
    await expect(registry.logPredictions(broken)).rejects.toThrow();
    expect(await registry.predictionsSince('bulk-broken', '2000-01-01T00:00:00Z')).toEqual([]);
  });

  it('adds feedback once, counting only new rows', async () => {
    const f = (text: string, label = 'neg') => ({ model: 'fed', text, label, source: 'analyst:bob' });
    expect(await registry.addFeedback([f('bad'), f('good', 'pos')])).toBe(2);
    expect(await registry.addFeedback([f('bad'), f('good', 'pos')])).toBe(0);
    await sleep(25);
    expect(await registry.addFeedback([f('bad'), f('bad', 'pos'), f('new')])).toBe(2);
    expect(await registry.addFeedback([])).toBe(0);
    const all = await registry.feedbackSince('fed', '2000-01-01T00:00:00Z');
    expect(all).toHaveLength(4);
    expect(all[0]).toMatchObject(f('bad'));
    const later = await registry.feedbackSince('fed', all[2]!.createdAt);
    expect(later.map((r) => `${r.text}/${r.label}`)).toEqual(['bad/pos', 'new/neg']);
  });

  it('adds feedback by request id once, with or without its text', async () => {
    const f = (requestId: string, label: string, text?: string) => ({
      model: 'fed-id',
      requestId,
      label,
      source: 'analyst:bob',
      ...(text !== undefined && { text }),
    });
    expect(
      await registry.addFeedback([
        f('r1', 'neg'),
        f('batch', 'pos', 'ดีมาก'),
        f('batch', 'neg', 'แย่'),
        { model: 'fed-id', text: 'ดีมาก', label: 'pos', source: 'analyst:bob' },
      ]),
    ).toBe(4);
    // Sent again: nothing new. The same request relabelled, or named with a text, is a new fact.
    expect(await registry.addFeedback([f('r1', 'neg'), f('batch', 'pos', 'ดีมาก'), f('batch', 'neg', 'แย่')])).toBe(0);
    expect(await registry.addFeedback([f('r1', 'pos'), f('r1', 'neg', 'a copy')])).toBe(2);
    const all = await registry.feedbackSince('fed-id', '2000-01-01T00:00:00Z');
    expect(all.map(({ createdAt: _c, ...r }) => r)).toEqual([
      f('r1', 'neg'),
      f('batch', 'pos', 'ดีมาก'),
      f('batch', 'neg', 'แย่'),
      { model: 'fed-id', text: 'ดีมาก', label: 'pos', source: 'analyst:bob' },
      f('r1', 'pos'),
      f('r1', 'neg', 'a copy'),
    ]);
    // A row naming nothing is refused whole, before anything is written.
    const error = await registry.addFeedback([f('r9', 'pos'), { model: 'fed-id', label: 'pos', source: 'x' } as never]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidFeedbackError);
    expect((error as InvalidFeedbackError).rows).toEqual([1]);
    expect((error as Error).message).toMatch(/row 1 names neither a text nor a requestId/);
    expect(await registry.feedbackSince('fed-id', '2000-01-01T00:00:00Z')).toHaveLength(6);
  });

  it('saves monitoring reports once and returns the latest', async () => {
    const report = (key: string, degraded: boolean) => ({
      model: 'monitored',
      version: 1,
      windowStart: '2025-03-01T00:00:00.000Z',
      windowEnd: '2025-03-02T00:00:00.000Z',
      report: { psi: degraded ? 0.3 : 0.01 },
      degraded,
      reportKey: key,
    });
    expect(await registry.latestMonitoringReport('monitored')).toBeNull();
    await registry.saveMonitoringReport(report('m1', false));
    await registry.saveMonitoringReport(report('m2', true));
    await registry.saveMonitoringReport(report('m1', false)); // retried
    expect(await registry.latestMonitoringReport('monitored')).toMatchObject(report('m2', true));
  });
});

describe('embedded registry lock (PGlite is single-process)', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'mlc-lock-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });
  const lockPath = () => join(dataDir, 'registry', '.lock');

  it('refuses a second opener while the first is open, and allows it after close', async () => {
    const first = await openRegistry({ dataDir });
    const refused = await openRegistry({ dataDir }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RegistryLockedError);
    expect(refused).toMatchObject({ pid: process.pid, lockPath: lockPath() });
    expect((refused as Error).message).toMatch(/DATABASE_URL/);
    await first.close();
    await first.close(); // idempotent
    const second = await openRegistry({ dataDir });
    await second.close();
  });

  it('refuses while another live process holds the lock', async () => {
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      await writeFile(lockPath(), JSON.stringify({ pid: holder.pid, hostname: hostname() }));
      const refused = await openRegistry({ dataDir }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(RegistryLockedError);
      expect((refused as Error).message).toContain(`process ${holder.pid}`);
    } finally {
      holder.kill();
    }
  });

  it('takes over a stale lock left by a dead process', async () => {
    const dead = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    await new Promise((r) => dead.on('exit', r));
    await writeFile(lockPath(), JSON.stringify({ pid: dead.pid, hostname: hostname() }));
    const registry = await openRegistry({ dataDir });
    await registry.close();
  });
});

describe('postgres connection and migration', () => {
  it('names an unreachable server without its password', async () => {
    const error = await openRegistry({ databaseUrl: 'postgres://mlc:s3cret@127.0.0.1:1/mlc', dataDir: tmpdir() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryConnectionError);
    const message = (error as Error).message;
    expect(message).toContain('127.0.0.1:1');
    expect(message).toContain('ECONNREFUSED');
    expect(message).toContain('DATABASE_URL');
    expect(message).not.toContain('s3cret');
    expect((error as RegistryConnectionError).url).toBe('postgres://mlc:***@127.0.0.1:1/mlc');
    expect((error as Error).cause).toBeDefined();
  });

  it('names a missing database', async () => {
    const url = new URL(pgUrl);
    url.pathname = '/mlc_no_such_database';
    const error = await openRegistry({ databaseUrl: url.toString(), dataDir: tmpdir() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryConnectionError);
    expect((error as Error).message).toMatch(/mlc_no_such_database.*does not exist/);
  });

  it('lets workers that start together migrate a fresh database once', async () => {
    await resetPostgres();
    const registries = await Promise.all([1, 2, 3].map(() => openRegistry({ databaseUrl: pgUrl, dataDir: tmpdir() })));
    await Promise.all(registries.map((r) => r.close()));
    const [row] = await withPostgres((sql) => sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
    expect(row).toEqual({ n: await migrationCount() });
  });
});

// A registry written before feedback had request ids: the new migration keeps its rows and
// their keys, so re-sending an old feedback file still adds nothing.
describe.each(backends)('upgrading a registry on $name to feedback by request id', (backend) => {
  it('keeps old feedback rows and their idempotency', async () => {
    const db = await backend.fresh();
    const old = await mkdtemp(join(tmpdir(), 'mlc-migrations-'));
    try {
      await cp(migrationsFolder, old, { recursive: true });
      const journalPath = join(old, 'meta/_journal.json');
      const journal = JSON.parse(await readFile(journalPath, 'utf8')) as { entries: { tag: string }[] };
      journal.entries = journal.entries.filter((e) => e.tag === '0000_init');
      await writeFile(journalPath, JSON.stringify(journal));
      await db.migrateWith(old);
    } finally {
      await rm(old, { recursive: true, force: true });
    }
    await db.query(`insert into feedback (model, text, label, source) values ('up', 'ดีมาก', 'pos', 'cli')`);

    const registry = await db.open();
    try {
      const row = { model: 'up', text: 'ดีมาก', label: 'pos', source: 'cli' };
      expect(await registry.addFeedback([row])).toBe(0);
      expect(await registry.addFeedback([{ ...row, requestId: 'r1' }])).toBe(1);
      expect((await registry.feedbackSince('up', '2000-01-01T00:00:00Z')).map(({ createdAt: _c, ...r }) => r)).toEqual([row, { ...row, requestId: 'r1' }]);
    } finally {
      await registry.close();
    }
  });
});

// A registry that deployed before aliases existed: migration 0003 makes its newest deployment
// the champion, and the alias history refuses edits as the decision log does.
describe.each(backends)('upgrading a registry on $name to aliases', (backend) => {
  it('backfills champion from the newest deployment and keeps the alias history append-only', async () => {
    const db = await backend.fresh();
    const old = await mkdtemp(join(tmpdir(), 'mlc-migrations-'));
    try {
      await cp(migrationsFolder, old, { recursive: true });
      const journalPath = join(old, 'meta/_journal.json');
      const journal = JSON.parse(await readFile(journalPath, 'utf8')) as { entries: { tag: string }[] };
      journal.entries = journal.entries.filter((e) => e.tag < '0003');
      await writeFile(journalPath, JSON.stringify(journal));
      await db.migrateWith(old);
    } finally {
      await rm(old, { recursive: true, force: true });
    }
    const deployment = (key: string, version: number, at: string) =>
      `insert into deployments (deployment_key, model, version, target, endpoint_url, artifact_sha256, actor, deployed_at) values ('${key}', 'old', ${version}, 'local', 'http://e', 's', 'bob', '${at}')`;
    await db.query(deployment('d1', 1, '2026-01-01T00:00:00Z'));
    await db.query(deployment('d2', 2, '2026-02-01T00:00:00Z'));
    await db.query(deployment('r1', 1, '2026-03-01T00:00:00Z'));

    const registry = await db.open();
    try {
      expect((await registry.listModelAliases('old')).map((a) => [a.alias, a.version, a.setBy])).toEqual([['champion', 1, 'bob']]);
      expect(await registry.aliasHistory('old')).toHaveLength(1);
    } finally {
      await registry.close();
    }
    await expect(db.query(`update model_alias_events set version = 2`)).rejects.toThrow(/append-only/);
    await expect(db.query(`delete from model_alias_events`)).rejects.toThrow(/append-only/);
  });
});

// Decisions are an append-only, hash-chained log: the database refuses an UPDATE, and a row
// edited or deleted by someone who turned that off is named by verifyDecisionChain.
describe.each(backends)('the decision log on $name', (backend) => {
  const decision = (n: number) => ({
    model: 'chain',
    version: 1,
    kind: 'audit' as const,
    outcome: 'approved' as const,
    actor: 'alice',
    reason: `reason ${n}`,
    workflowId: 'mlc-chain',
    decidedAt: new Date(Date.UTC(2026, 10, 29, 8, 0, n)).toISOString(),
    decisionKey: `k${n}`,
    ...(n === 2
      ? { envelope: { payloadType: 'application/vnd.in-toto+json', payload: 'e30=', signatures: [{ keyid: 'abc', sig: 'c2ln' }] }, signerKeyId: 'abc' }
      : {}),
  });

  it('chains every row, ignores a repeated key, and names the first edited or deleted row', async () => {
    const db = await backend.fresh();
    let registry = await db.open();
    try {
      for (const n of [1, 2, 3, 4]) await registry.recordDecision(decision(n));
      await registry.recordDecision(decision(2));
      const intact = await registry.verifyDecisionChain('chain');
      expect(intact.rows).toHaveLength(4);
      expect(intact.firstBreak).toBeNull();
    } finally {
      await registry.close();
    }
    await expect(db.query(`update decisions set reason = 'nothing to see' where decision_key = 'k2'`)).rejects.toThrow(/append-only/);

    await db.query(`alter table decisions disable trigger decisions_append_only`);
    await db.query(`update decisions set reason = 'nothing to see' where decision_key = 'k2'`);
    registry = await db.open();
    try {
      expect((await registry.verifyDecisionChain('chain')).firstBreak).toMatchObject({ decisionKey: 'k2', why: expect.stringContaining('edited') });
    } finally {
      await registry.close();
    }
    await db.query(`update decisions set reason = 'reason 2' where decision_key = 'k2'`);
    await db.query(`delete from decisions where decision_key = 'k3'`);
    registry = await db.open();
    try {
      expect((await registry.verifyDecisionChain('chain')).firstBreak).toMatchObject({ decisionKey: 'k4', why: expect.stringContaining('deleted') });
    } finally {
      await registry.close();
    }
  });

  it('keeps signing keys, lists those in force, and revokes', async () => {
    const db = await backend.fresh();
    const registry = await db.open();
    try {
      await registry.addSigningKey({ name: 'alice', publicKey: 'ed25519:A', keyId: 'a1', addedBy: 'admin' });
      await registry.addSigningKey({ name: 'alice', publicKey: 'ed25519:A', keyId: 'a1', addedBy: 'admin' });
      await registry.addSigningKey({ name: 'bob', publicKey: 'ed25519:B', keyId: 'b1', addedBy: 'admin' });
      expect((await registry.listSigningKeys()).map((k) => k.name)).toEqual(['alice', 'bob']);
      expect(await registry.revokeSigningKey('ed25519:A')).toBe(true);
      expect(await registry.revokeSigningKey('ed25519:A')).toBe(false);
      expect(await registry.listSigningKeys('alice')).toEqual([]);
    } finally {
      await registry.close();
    }
  });
});
