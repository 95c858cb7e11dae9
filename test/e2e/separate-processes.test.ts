// The production shape: each worker role (control, scoring, endpoint) in its own process and
// the CLI as a fourth kind, sharing one PostgreSQL registry — what PGlite (one process only)
// cannot do. One lifecycle through `mlc` alone, then the registry rows checked in PostgreSQL
// directly. A fresh database, Temporal namespace, data folder and endpoint port per run.
// Needs `bash scripts/services.sh start` (npm test runs it).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import type { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePrometheusText } from '../../adapters/endpoint/prometheus-text';
import type { LifecycleStatus } from '../../domain/lifecycle';
import { lifecycleWorkflowId, monitoringScheduleId } from '../../domain/temporal-names';
import { repoRoot } from '../../temporal.config';
import { connectToFreshNamespace } from './temporal-helpers';
import { freePort, mlc, startWorker, stopAll, tail, type CliResult, type Worker } from './process-helpers';

const run = Date.now().toString(36);
const model = `sep-${run}`;
const adminUrl = new URL(process.env.MLC_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/mlc_test');
adminUrl.pathname = '/postgres';
const dbName = `mlc_e2e_sep_${run}`;
const dbUrl = Object.assign(new URL(adminUrl), { pathname: `/${dbName}` }).toString();

let env: NodeJS.ProcessEnv;
let port: number;
let dataDir: string;
let temporal: { client: Client; connection: Connection } | undefined;
let sql: postgres.Sql | undefined;
let workers: Worker[] = [];
let workerMetrics: string;

async function admin<T>(fn: (db: postgres.Sql) => Promise<T>): Promise<T> {
  const db = postgres(adminUrl.toString(), { max: 1, onnotice: () => {} });
  try {
    return await fn(db);
  } finally {
    await db.end();
  }
}

/** A CLI run that must succeed; on failure, say what it and every worker printed. */
async function ok(...args: string[]): Promise<CliResult> {
  const r = await mlc(env, ...args);
  if (r.code !== 0) {
    const logs = workers
      .map((w) => `--- worker ${w.role}${w.child.exitCode === null ? '' : ` (exited ${w.child.exitCode})`}:\n${tail(w.output(), 15)}`)
      .join('\n');
    throw new Error(`mlc ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}\n${logs}`);
  }
  return r;
}

/** Runs a command mlc printed (--print-signal, --print-start) through bash with the real `temporal` CLI, as a user pastes it. */
function pasteIntoTemporalCli(printed: CliResult): void {
  expect(printed.code, printed.stderr).toBe(0);
  const cli = spawnSync('bash', ['-c', printed.stdout], {
    env: { ...env, PATH: `${path.join(repoRoot, '.venv/bin')}:${env.PATH}`, TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233' },
    encoding: 'utf8',
  });
  expect(cli.status, `${printed.stdout}\n${cli.stdout}${cli.stderr}`).toBe(0);
}

beforeAll(async () => {
  await admin((db) => db.unsafe(`create database "${dbName}"`));
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'mlc-sep-'));
  port = await freePort();
  temporal = await connectToFreshNamespace(`mlc-e2e-sep-${run}`);
  env = {
    ...process.env,
    MLC_CONFIG: '',
    DATABASE_URL: dbUrl,
    TEMPORAL_NAMESPACE: `mlc-e2e-sep-${run}`,
    MLC_DATA_DIR: dataDir,
    MLC_DATA_ROOTS: dataDir, // the spec's data is written here
    MLC_ARTIFACTS_ROOT: '',
    MLC_ENDPOINT_HOST: '127.0.0.1',
    MLC_ENDPOINT_PORT: String(port),
  };
  // All three at once: they race to migrate the fresh database, which open.ts serialises. The
  // control worker serves the Temporal SDK's metrics.
  workerMetrics = `127.0.0.1:${await freePort()}`;
  workers = await Promise.all(
    ['control', 'scoring', 'endpoint'].map((role) => startWorker(role, role === 'control' ? { ...env, MLC_WORKER_METRICS_ADDRESS: workerMetrics } : env)),
  );
  sql = postgres(dbUrl, { max: 2, onnotice: () => {} });
}, 120_000);

afterAll(async () => {
  await stopAll();
  if (temporal) {
    const { client, connection } = temporal;
    await client.workflow
      .getHandle(lifecycleWorkflowId(model))
      .terminate('e2e done')
      .catch(() => undefined);
    await client.schedule
      .getHandle(monitoringScheduleId(model))
      .delete()
      .catch(() => undefined);
    await connection.close();
  }
  await sql?.end();
  await admin((db) => db.unsafe(`drop database if exists "${dbName}" with (force)`));
  if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
}, 60_000);

describe('worker roles, endpoint and CLI as separate processes on PostgreSQL', () => {
  it('each role announces itself with its own queues, and the registry is PostgreSQL', () => {
    const [control, scoring, endpoint] = workers.map((w) => w.output());
    expect(control).toMatch(/queues \[mlc-control\], Temporal/);
    expect(scoring).toMatch(/queues \[mlc-scoring\], Temporal/);
    expect(endpoint).toContain(`queues [], endpoint http://127.0.0.1:${port}`);
    for (const out of [control, scoring, endpoint]) expect(out).toContain('registry PostgreSQL');
    expect(control).toContain(`worker metrics http://${workerMetrics}/metrics`);
    expect(scoring).not.toContain('worker metrics');
  });

  it('starts, audits, deploys, serves and reports a lifecycle with mlc alone; the rows are in PostgreSQL', async () => {
    const lines = (await fs.readFile(path.join(repoRoot, 'data/wisesight-sample/train.jsonl'), 'utf8')).split('\n').filter(Boolean);
    await fs.writeFile(path.join(dataDir, 'input.jsonl'), lines.slice(0, 600).join('\n') + '\n');
    const specFile = path.join(dataDir, 'spec.json');
    await fs.writeFile(
      specFile,
      JSON.stringify({
        name: model,
        labels: ['neg', 'neu', 'pos', 'q'],
        data: { path: path.join(dataDir, 'input.jsonl'), testFraction: 0.2 },
        // One epoch on 480 rows may predict one class only: the gate is there to be evaluated, not to judge.
        gates: [{ metric: 'accuracy', min: 0 }],
        training: {
          cluster: 'local-process',
          params: { epochs: 1, maxLength: 32, vocabSize: 800, hiddenSize: 32, intermediateSize: 64, lstmHidden: 32, numWorkers: 0 },
        },
        roles: { auditors: ['alice'], deployers: ['bob'] },
      }),
    );

    // The CLI's data roots (the repository's defaults) do not hold dataDir; the workers' do. So
    // validate refuses the data here and checks it where the worker reads it, with the hash the
    // lifecycle then records; a path outside the worker's roots is refused by the worker.
    const cliEnv = { ...env, MLC_DATA_ROOTS: '' };
    const here = await mlc(cliEnv, 'validate', specFile);
    expect(here.code).toBe(2);
    expect(here.stderr).toContain('it lies outside every data root');
    const onWorker = await mlc(cliEnv, 'validate', specFile, '--on-worker');
    expect(onWorker.code, onWorker.stderr).toBe(0);
    expect(onWorker.stdout).toMatch(/✓ data \S+input\.jsonl \(jsonl, read on the worker\): 600 records, \d+ kept: train \d+ · valid \d+ · test \d+/);
    const validatedHash = /dataset {5}([0-9a-f]{64})/.exec(onWorker.stdout)?.[1];
    expect(validatedHash).toBeDefined();
    const outsideSpec = path.join(dataDir, 'outside-spec.json');
    await fs.writeFile(outsideSpec, JSON.stringify({ ...JSON.parse(await fs.readFile(specFile, 'utf8')), data: { path: '/etc/passwd', format: 'csv' } }));
    const refused = await mlc(cliEnv, 'validate', outsideSpec, '--on-worker');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`Refused to read data.path /etc/passwd`);
    expect(refused.stderr).toContain(dataDir);

    const started = await ok('start', specFile, '--wait');
    expect(started.stdout).toContain(`started ${lifecycleWorkflowId(model)}`);
    expect(started.stderr).toContain(`✓ ${lifecycleWorkflowId(model)}: awaiting_audit`);
    const audit = JSON.parse((await ok('status', model, '--json')).stdout) as LifecycleStatus;
    expect(audit).toMatchObject({ stage: 'awaiting_audit', version: 1 });

    expect((await ok('audit', 'approve', model, '--as', 'alice', '--reason', 'gates met', '--version', '1')).stdout).toContain(
      `✓ approve recorded for ${lifecycleWorkflowId(model)}`,
    );
    const deployed = await ok('deploy', model, '--as', 'bob', '--reason', 'separate processes');
    expect(deployed.stdout).toContain(`✓ deployment requested for ${lifecycleWorkflowId(model)}`);
    expect(deployed.stderr).toContain('monitoring, version 1 live');

    const texts = ['ร้านนี้อร่อยมาก', 'แย่มาก ไม่กลับไปอีกแล้ว'];
    const predicted = await ok('predict', '--model', model, '--endpoint', `http://127.0.0.1:${port}`, ...texts);
    expect(predicted.stdout.split('\n')[0]).toBe(`${model} v1`);
    const status = await ok('status', model);
    expect(status.stdout).toMatch(/stage\s+monitoring/);
    expect(status.stdout).toMatch(/deployed\s+1/);
    expect(status.stdout).toMatch(/last\s+deploy approved by bob/);

    // What the three workers wrote, read from PostgreSQL itself.
    const db = sql!;
    expect(await db`select state, cluster, dataset_hash from runs where model = ${model}`).toEqual([
      { state: 'succeeded', cluster: 'local-process', dataset_hash: validatedHash },
    ]);
    expect(await db`select version, sha256 from model_versions where model = ${model}`).toEqual([{ version: 1, sha256: audit.artifactSha256 }]);
    expect(await db`select kind, outcome, actor, reason, version from decisions where model = ${model} order by decided_at, id`).toEqual([
      { kind: 'audit', outcome: 'approved', actor: 'alice', reason: 'gates met', version: 1 },
      { kind: 'deploy', outcome: 'approved', actor: 'bob', reason: 'separate processes', version: 1 },
    ]);
    expect(await db`select version, actor, artifact_sha256 from deployments where model = ${model}`).toEqual([
      { version: 1, actor: 'bob', artifact_sha256: audit.artifactSha256 },
    ]);
    const predictions = await db`select text, version from predictions where model = ${model}`;
    expect(predictions.map((p) => [p.text, p.version]).sort()).toEqual(texts.map((text) => [text, 1]).sort());

    // mlc history reads the same rows straight from PostgreSQL.
    const history = JSON.parse((await ok('history', model, '--json')).stdout) as {
      actor: string;
      kind: string;
      outcome: string;
      version: number;
      reason: string;
      at: string;
    }[];
    expect(history.map((d) => [d.kind, d.outcome, d.actor, d.version, d.reason])).toEqual([
      ['audit', 'approved', 'alice', 1, 'gates met'],
      ['deploy', 'approved', 'bob', 1, 'separate processes'],
    ]);
    expect(Number.isNaN(Date.parse(history[0]!.at))).toBe(false);
    expect((await ok('history', model)).stdout).toMatch(/audit\s+approved\s+v1\s+by alice: gates met/);

    // Without DATABASE_URL the CLI never opens a registry itself: it asks the control worker, as for mlc runs.
    const throughWorker = await mlc({ ...env, DATABASE_URL: '' }, 'history', model);
    expect(throughWorker.code, throughWorker.stderr).toBe(0);
    expect(throughWorker.stdout).toBe((await ok('history', model)).stdout);

    // The control worker's SDK metrics saw this lifecycle's work: its queue, its activities, its workflow tasks.
    const metrics = parsePrometheusText(await (await fetch(`http://${workerMetrics}/metrics`)).text());
    const onControl = (name: string) =>
      metrics.filter((m) => m.name === name && m.labels.task_queue === 'mlc-control' && m.labels.namespace === env.TEMPORAL_NAMESPACE);
    expect(onControl('temporal_worker_start').map((m) => m.value)).toEqual([1]);
    const activities = new Set(onControl('temporal_activity_execution_latency_count').map((m) => m.labels.activity_type));
    expect(activities).toContain('preprocessData');
    expect(onControl('temporal_workflow_task_execution_latency_count').reduce((n, m) => n + m.value, 0)).toBeGreaterThan(5);
  });

  it('mlc retrain: refused by name from a stranger; from an auditor, generation 2 trains and awaits audit while version 1 serves', async () => {
    const refused = await mlc(env, 'retrain', model, '--as', 'mallory', '--reason', 'why not');
    expect([refused.code, refused.stderr.trim()]).toEqual([
      1,
      `mlc: refused: mallory may not request a retrain of ${model}: only its auditors (alice) and deployers (bob) may (recorded in the registry and the workflow history)`,
    ]);
    const asked = await ok('retrain', model, '--as', 'alice', '--reason', 'new labels arrived', '--wait');
    expect(asked.stdout).toContain(`✓ retrain requested for ${lifecycleWorkflowId(model)}`);
    expect(asked.stdout).toContain(`mlc wait ${model} --stage awaiting_audit --generation 2`);
    expect(asked.stderr).toContain(`✓ ${lifecycleWorkflowId(model)}: awaiting_audit, version 1 live`);
    const next = JSON.parse((await ok('status', model, '--json')).stdout) as LifecycleStatus;
    expect(next).toMatchObject({ stage: 'awaiting_audit', generation: 2, version: 2, deployedVersion: 1 });
    expect(await sql!`select outcome, actor, version from decisions where model = ${model} and kind = 'retrain' order by decided_at`).toEqual([
      { outcome: 'refused', actor: 'mallory', version: 1 },
      { outcome: 'requested', actor: 'alice', version: 1 },
    ]);
    const schedule = await temporal!.client.schedule.getHandle(monitoringScheduleId(model)).describe();
    expect([schedule.state.paused, schedule.state.note]).toEqual([true, 'retraining after: new labels arrived']);
    const served = await ok('predict', '--model', model, '--endpoint', `http://127.0.0.1:${port}`, 'ร้านนี้อร่อยมาก');
    expect(served.stdout).toContain(`${model} v1`);
  });

  it('mlc stop ends the lifecycle on the record: the real Schedule paused, the version still served', async () => {
    const stopped = await ok('stop', model, '--as', 'bob', '--reason', 'the e2e run is over');
    expect(stopped.stdout).toContain(`✓ stop recorded for ${lifecycleWorkflowId(model)}`);
    expect(stopped.stdout).toContain(`${lifecycleWorkflowId(model)}: stopped; version 1 stays deployed, its monitoring paused`);
    const schedule = await temporal!.client.schedule.getHandle(monitoringScheduleId(model)).describe();
    expect(schedule.state.paused).toBe(true);
    expect(schedule.state.note).toContain('stopped by bob while awaiting_audit: the e2e run is over');
    expect(await sql!`select kind, outcome, actor, version from decisions where model = ${model} and kind = 'stop'`).toEqual([
      { kind: 'stop', outcome: 'approved', actor: 'bob', version: 1 },
    ]);
    await ok('wait', model, '--stage', 'stopped'); // it ended at the stage waited for
    const status = await ok('status', model);
    expect(status.stdout).toMatch(/^stage {7}stopped\nended {7}was COMPLETED at \S+; nothing moves it on$/m);
    const json = JSON.parse((await ok('status', model, '--json')).stdout) as { stage: string; ended?: string };
    expect(json).toMatchObject({ stage: 'stopped', ended: expect.stringMatching(/^was COMPLETED at \S+$/) });
    const deploy = await mlc(env, 'deploy', model, '--as', 'bob');
    expect([deploy.code, deploy.stderr]).toEqual([1, expect.stringMatching(/was COMPLETED at \S+, so it takes no more decisions/)]);
    // Stopping a lifecycle does not take its version off the endpoint.
    const served = await ok('predict', '--model', model, '--endpoint', `http://127.0.0.1:${port}`, 'ร้านนี้อร่อยมาก');
    expect(served.stdout).toContain(`${model} v1`);

    // A new lifecycle for the model has deployed nothing of its own; its status says what is served.
    await ok('start', path.join(dataDir, 'spec.json'));
    const next = await ok('status', model);
    expect(next.stdout).toMatch(/^stage {7}(preprocessing|training)$/m);
    expect(next.stdout).toMatch(/^deployed {4}— {2}\(the endpoint serves version 1, deployed by an earlier lifecycle\)$/m);
  });

  it('mlc undeploy, once the lifecycle is stopped, takes the version off the endpoint: predictions refused, champion removed, on record', async () => {
    // From here alice signs with a key an admin registered.
    const withKeys = { ...env, MLC_KEYS_DIR: path.join(dataDir, 'keys') };
    const publicKey = /public key: (ed25519:\S+)/.exec((await mlc(withKeys, 'keys', 'init', '--as', 'alice')).stdout)?.[1];
    await ok('keys', 'add', 'alice', publicKey!, '--by', 'root');
    // The lifecycle started again above deploys a version of its own first. alice approves it
    // as a user pastes the signed signal into the `temporal` CLI (--print-signal, run by bash).
    await ok('wait', model, '--stage', 'awaiting_audit');
    const { version } = JSON.parse((await ok('status', model, '--json')).stdout) as LifecycleStatus;
    const signal = await mlc(
      withKeys,
      'audit',
      'approve',
      model,
      '--as',
      'alice',
      '--reason',
      `it's "fine" $(whoami)`,
      '--version',
      String(version),
      '--print-signal',
    );
    expect(signal.stdout).toMatch(new RegExp(`^temporal workflow signal --workflow-id '${lifecycleWorkflowId(model)}' --name auditDecision --input '`));
    pasteIntoTemporalCli(signal);
    await ok('wait', model, '--stage', 'awaiting_deploy');
    expect(
      await sql!`select outcome, actor, reason, signer_key_id is not null as signed from decisions where model = ${model} and kind = 'audit' order by id desc limit 1`,
    ).toEqual([{ outcome: 'approved', actor: 'alice', reason: `it's "fine" $(whoami)`, signed: true }]);
    await ok('deploy', model, '--as', 'bob', '--reason', 'back in service');
    // While the lifecycle that deployed it runs, it is the one to take the version off.
    const whileRunning = await mlc(env, 'undeploy', model, '--as', 'bob', '--reason', 'too early');
    expect([whileRunning.code, whileRunning.stderr.trim()]).toEqual([
      1,
      `mlc: refused: ${lifecycleWorkflowId(model)} is running and monitors version ${version}, which it deployed: take it off with mlc stop ${model} --as <deployer> --reason "…" --undeploy`,
    ]);
    const auditor = await mlc(env, 'stop', model, '--as', 'alice', '--reason', 'retired', '--undeploy');
    expect([auditor.code, auditor.stderr.trim()]).toEqual([
      1,
      `mlc: refused: alice may stop ${model} but not take its version off the endpoint: only its deployers (bob) may (or stop it without --undeploy) (recorded in the registry and the workflow history)`,
    ]);
    await ok('stop', model, '--as', 'alice', '--reason', 'retired');
    const notADeployer = await mlc(env, 'undeploy', model, '--as', 'alice', '--reason', 'retired');
    expect([notADeployer.code, notADeployer.stderr.trim()]).toEqual([
      1,
      `mlc: refused: alice may not take ${model} off its endpoint: only its deployers (bob) may`,
    ]);
    // The same request, signed and pasted into the `temporal` CLI (--print-start). The refusal
    // is the role's, so the signature came through the shell, the CLI and the codec intact.
    const printed = await mlc(withKeys, 'undeploy', model, '--as', 'alice', '--reason', `it's "retired" $(whoami)`, '--print-start');
    const workflowId = /^temporal workflow start --task-queue mlc-control --type undeployModel --workflow-id '(mlc-undeploy-[^']+)' --input '/.exec(
      printed.stdout,
    )?.[1];
    expect(workflowId, printed.stdout + printed.stderr).toBeDefined();
    pasteIntoTemporalCli(printed);
    expect(await temporal!.client.workflow.getHandle(workflowId!).result()).toEqual({
      outcome: 'refused',
      why: `alice may not take ${model} off its endpoint: only its deployers (bob) may`,
      version,
    });
    const undeployed = await ok('undeploy', model, '--as', 'bob', '--reason', 'retired for good');
    expect(undeployed.stdout).toMatch(
      new RegExp(`^✓ version ${version} of ${model} taken off the endpoint, its monitoring paused \\(recorded by mlc-undeploy-${model}-[0-9a-f]{8}\\)$`, 'm'),
    );
    const schedule = await temporal!.client.schedule.getHandle(monitoringScheduleId(model)).describe();
    expect([schedule.state.paused, schedule.state.note]).toEqual([
      true,
      expect.stringMatching(/^undeployed by bob \(mlc-undeploy-\S+\): retired for good; version \d+ taken off/),
    ]);
    const health = (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as { models: { model: string }[] };
    expect(health.models.map((m) => m.model)).not.toContain(model);
    const predicted = await mlc(env, 'predict', '--model', model, '--endpoint', `http://127.0.0.1:${port}`, 'ร้านนี้อร่อยมาก');
    expect([predicted.code, predicted.stderr]).toEqual([1, expect.stringContaining(`no version of model "${model}" is deployed here`)]);
    expect(await sql!`select kind, outcome, actor, version from decisions where model = ${model} and kind = 'undeploy' order by id`).toEqual([
      { kind: 'undeploy', outcome: 'refused', actor: 'alice', version },
      { kind: 'undeploy', outcome: 'refused', actor: 'alice', version },
      { kind: 'undeploy', outcome: 'approved', actor: 'bob', version },
    ]);
    expect(await sql!`select version, retired_by from deployments where model = ${model} and retired_at is not null`).toEqual([{ version, retired_by: 'bob' }]);
    const status = await ok('status', model);
    // The stopped lifecycle's last word was its version; the registry says what serves now.
    expect(status.stdout).toMatch(
      new RegExp(`^deployed {4}— {2}\\(version ${version} no longer serves; nothing is deployed now: mlc history ${model}\\)$`, 'm'),
    );
    const aliases = await ok('alias', 'list', model, '--history');
    expect(aliases.stdout).not.toMatch(/^champion /m);
    expect(aliases.stdout).toMatch(new RegExp(`champion +v${version} → removed +bob +taken off the endpoint: retired for good`));
    // The registry's list of models: its newest version, nothing deployed, the undeploy last.
    const models = await ok('models');
    expect((await mlc({ ...env, DATABASE_URL: '' }, 'models')).stdout).toBe(models.stdout); // through the control worker too
    expect(models.stdout).toMatch(
      new RegExp(`^${model} +\\d+ +v${version} +— +undeploy v${version} approved by bob, \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC$`, 'm'),
    );
  });

  it('every role is still serving at the end, and stops on SIGTERM', async () => {
    for (const w of workers) expect(w.child.exitCode, `worker ${w.role} exited early:\n${tail(w.output())}`).toBeNull();
    await stopAll();
    expect(workers.map((w) => [w.role, w.child.signalCode ?? w.child.exitCode])).toEqual([
      ['control', 0],
      ['scoring', 0],
      ['endpoint', 0],
    ]);
  });
});
