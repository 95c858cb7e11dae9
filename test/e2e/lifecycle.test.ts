// One whole lifecycle on the real parts: Temporal dev server, SLURM over SSH, the registry on
// PGlite, real ONNX files, the built-in endpoint — then monitoring that triggers a retrain.
// Needs `bash scripts/services.sh start` (npm test runs it).
import { WorkflowFailedError, type Client, type Connection } from '@temporalio/client';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stage } from '../../domain/lifecycle';
import { parseSpec, type ModelSpecInput } from '../../domain/spec';
import { lifecycleWorkflowId, monitoringScheduleId } from '../../domain/temporal-names';
import { loadConfig, repoRoot, taskQueues, type MlcConfig } from '../../temporal.config';
import { auditDecisionUpdate, deployRequestUpdate, rollbackRequestUpdate } from '../../workflows/messages';
import { startRuntime, type Runtime } from '../../workers/runtime';
import { logsCommand } from '../../cli/logs';
import { statusCommand } from '../../cli/lifecycle-commands';
import { monitorCommand, monitorHistoryCommand } from '../../cli/monitor';
import { connectToFreshNamespace, waitForStage } from './temporal-helpers';

// A namespace per run: task queues are per namespace, so a worker left over from an earlier,
// interrupted run (or its still-running workflows) can never take this run's tasks.
const namespace = `mlc-e2e-${Date.now().toString(36)}`;
let dataDir: string;
let config: MlcConfig;
let client: Client;
let connection: Connection;

async function sampleData(rows: number): Promise<string> {
  const lines = (await fs.readFile(path.join(repoRoot, 'data/wisesight-sample/train.jsonl'), 'utf8')).split('\n').filter(Boolean);
  const file = path.join(dataDir, 'input.jsonl');
  await fs.writeFile(file, lines.slice(0, rows).join('\n') + '\n');
  return file;
}

function specFor(name: string, dataPath: string, overrides: Partial<ModelSpecInput> = {}) {
  return parseSpec({
    name,
    labels: ['neg', 'neu', 'pos', 'q'],
    data: { path: dataPath, testFraction: 0.2 },
    gates: [{ metric: 'accuracy', min: 0.05 }],
    training: {
      cluster: 'local',
      profile: { cpusPerTask: 1, memory: '2G', timeLimit: '00:10:00' },
      params: { epochs: 1, maxLength: 32, vocabSize: 800, hiddenSize: 32, intermediateSize: 64, lstmHidden: 32, numWorkers: 0 },
    },
    // Thresholds this tiny model cannot meet, so the monitor must call for a retrain at its first window.
    monitoring: { every: '1h', minPredictions: 30, minFeedback: 30, psiThreshold: 0.1, minFeedbackAccuracy: 0.99, consecutive: 1 },
    roles: { auditors: ['alice'], deployers: ['bob'] },
    ...overrides,
  });
}

const reach = (id: string, stage: Stage, generation = 1) => waitForStage(client, id, stage, generation);

beforeAll(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'mlc-e2e-'));
  ({ client, connection } = await connectToFreshNamespace(namespace));
  config = loadConfig({
    ...process.env,
    MLC_DATA_DIR: dataDir,
    MLC_DATA_ROOTS: dataDir, // sampleData writes the spec's data here
    TEMPORAL_NAMESPACE: namespace,
    MLC_ENDPOINT_PORT: String(18_000 + Math.floor(Math.random() * 2000)),
    MLC_SLURM_KEY: path.join(repoRoot, '.data/ssh/id_ed25519'),
    MLC_SLURM_KNOWN_HOSTS: path.join(repoRoot, '.data/ssh/known_hosts'),
    MLC_SLURM_POLL_MS: '1000',
    DATABASE_URL: '',
  });
});

afterAll(async () => {
  await connection?.close();
});

describe('the whole lifecycle on real services', () => {
  it('trains on SLURM, audits, deploys, serves, monitors, retrains and rolls back', async () => {
    const model = `e2e-${Date.now().toString(36)}`;
    // The retrain starts from the deployed version (a warm start), as the example spec's does.
    const base = specFor(model, await sampleData(900));
    const spec = parseSpec({ ...base, training: { ...base.training, retrain: { from: 'champion', params: { learningRate: 0.001 } } } });
    const runtime: Runtime = await startRuntime(config);
    const id = lifecycleWorkflowId(model);
    await runtime.runUntil(async () => {
      await client.workflow.start('modelLifecycle', { taskQueue: taskQueues.control, workflowId: id, args: [{ spec, specDir: dataDir }] });
      const audit = await reach(id, 'awaiting_audit');
      const handle = client.workflow.getHandle(id);

      // Training really happened on the cluster and produced checksummed ONNX.
      expect(audit.training?.jobId).toMatch(/^\d+$/);
      expect(audit.training?.jobState).toBe('COMPLETED');
      const registry = runtime.deps.registry;
      const run = await registry.getRun(audit.training!.runKey);
      expect(run).toMatchObject({ state: 'succeeded', slurmJobId: audit.training!.jobId });
      expect(run!.metrics.test_accuracy).toBeGreaterThan(0);
      const version = await registry.getModelVersion(model, audit.version!);
      expect(version?.sha256).toBe(audit.artifactSha256);
      const card = await fs.readFile(path.join(config.paths.artifacts, audit.evaluation!.auditPackageKey), 'utf8');
      expect(card).toContain('Confusion matrix');
      // `mlc logs --follow` prints the job's log and returns once the job has ended.
      const printed: string[] = [];
      const write = process.stdout.write.bind(process.stdout);
      process.stdout.write = (chunk: string) => printed.push(String(chunk)) > 0;
      try {
        await logsCommand({ config, client, close: async () => undefined }, id, { follow: true, lines: '20' });
      } finally {
        process.stdout.write = write;
      }
      expect(printed.join('')).toMatch(/^done: (best epoch|the average of epochs)/m);

      expect((await handle.executeUpdate(auditDecisionUpdate, { args: [{ decision: 'approve', actor: 'eve', reason: 'x' }] })).accepted).toBe(false);
      expect(
        (await handle.executeUpdate(auditDecisionUpdate, { args: [{ decision: 'approve', actor: 'alice', reason: 'gates met', version: audit.version! }] }))
          .accepted,
      ).toBe(true);
      expect((await handle.executeUpdate(deployRequestUpdate, { args: [{ actor: 'bob', reason: 'e2e' }] })).accepted).toBe(true);
      await reach(id, 'monitoring');

      // Serve traffic and feedback through the endpoint, as production would.
      const key = await fs.readFile(path.join(config.paths.secrets, 'endpoint.key'), 'utf8');
      const post = async (route: string, body: unknown) => {
        const res = await fetch(`${runtime.endpoint!.url}${route}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key.trim()}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        expect(res.status, await res.clone().text()).toBe(200);
        return res.json() as Promise<Record<string, unknown>>;
      };
      const feedback = (await fs.readFile(path.join(repoRoot, 'data/wisesight-sample/feedback.jsonl'), 'utf8'))
        .split('\n')
        .filter(Boolean)
        .slice(0, 60)
        .map((l) => JSON.parse(l) as { text: string; label: string });
      const scored = await post('/score', { model, texts: feedback.map((f) => f.text) });
      expect(scored).toMatchObject({ model, version: audit.version });
      expect(await post('/feedback', { model, items: feedback })).toMatchObject({ accepted: 60 });
      expect((await registry.predictionsSince(model, '1970-01-01T00:00:00Z')).length).toBe(60);

      // The Schedule exists; `mlc monitor` fires it now, waits for the run and prints its report; the lifecycle retrains.
      const schedule = client.schedule.getHandle(monitoringScheduleId(model));
      const said: string[] = [];
      const log = console.log;
      console.log = (...args: unknown[]) => void said.push(`${args.join(' ')}\n`);
      try {
        await monitorCommand({ config, client, close: async () => undefined }, model, {});
        // The trend, read through the worker (the registry is its embedded PGlite), and the newest report in `mlc status`.
        await monitorHistoryCommand({ config, client, close: async () => undefined }, model, {});
        await statusCommand({ config, client, close: async () => undefined }, model, {});
      } finally {
        console.log = log;
      }
      expect(said.join('')).toMatch(
        /^window end\s+ver\s+predictions\s+estimated\s+realized\s+drifted\s+verdict\n.*\s60\s.*RETRAIN\nnewest report: .*\.html\n/m,
      );
      expect(said.join('')).toMatch(new RegExp(`^DEGRADED \\(retrain requested\\): version ${audit.version}, 60 predictions`, 'm'));
      expect(said.join('')).toMatch(/estimated accuracy \d+\.\d% \[\d+\.\d% – \d+\.\d%\], realized \d+\.\d%/);
      expect(said.join('')).toMatch(/^ {2}report: .*\.html$/m);
      expect(said.join('')).toMatch(/^monitoring {2}degraded at \S+, estimated accuracy \d+\.\d%: .*\.html$/m);
      const next = await reach(id, 'awaiting_audit', 2);
      expect(next.decisions.map((d) => `${d.kind}:${d.outcome}:${d.actor}`)).toEqual([
        'audit:refused:eve',
        'audit:approved:alice',
        'deploy:approved:bob',
        'retrain:requested:mlc-monitor',
      ]);
      expect(next.version).toBe(audit.version! + 1);
      expect(next.datasetHash).not.toBe(audit.datasetHash);
      // Generation 2's job started from version 1's run: its weights and its very tokenizer.
      const runFolder = (view: typeof audit) => path.join(config.paths.artifacts, view.training!.runDir);
      const retrained = JSON.parse(await fs.readFile(path.join(runFolder(next), 'metrics.json'), 'utf8'));
      expect(retrained.warm_start.from).toBe(await fs.realpath(runFolder(audit)));
      expect(retrained.params.learningRate).toBe(0.001);
      expect(await fs.readFile(path.join(runFolder(next), 'tokenizer.json'))).toEqual(await fs.readFile(path.join(runFolder(audit), 'tokenizer.json')));
      const retrainedCard = await fs.readFile(path.join(config.paths.artifacts, next.evaluation!.auditPackageKey), 'utf8');
      expect(retrainedCard).toContain(`the weights and tokenizer of run <code>${audit.training!.runKey}</code> (a warm start`);
      const report = await registry.latestMonitoringReport(model);
      expect(report?.degraded).toBe(true);
      const decisions = await registry.listDecisions(model);
      expect(decisions.map((d) => d.outcome)).toEqual(['refused', 'approved', 'approved', 'requested']);

      // Ship generation 2, then roll back to version 1: the endpoint serves v1's bytes again.
      await handle.executeUpdate(auditDecisionUpdate, { args: [{ decision: 'approve', actor: 'alice', reason: 'retrained on feedback' }] });
      await handle.executeUpdate(deployRequestUpdate, { args: [{ actor: 'bob' }] });
      await reach(id, 'monitoring', 2);
      expect(
        (await handle.executeUpdate(rollbackRequestUpdate, { args: [{ actor: 'bob', version: audit.version!, reason: 'v2 misroutes questions' }] })).accepted,
      ).toBe(true);
      for (let i = 0; i < 120 && (await registry.activeDeployment(model))?.version !== audit.version; i++) await new Promise((r) => setTimeout(r, 500));
      expect(await registry.activeDeployment(model)).toMatchObject({ version: audit.version, artifactSha256: audit.artifactSha256 });
      const health = (await (await fetch(`${runtime.endpoint!.url}/health?model=${model}`)).json()) as { models: { model: string; version: number }[] };
      expect(health.models).toContainEqual(expect.objectContaining({ model, version: audit.version }));

      await handle.terminate('e2e done');
      await schedule.delete();
    });
  });

  it('runs a hyperparameter search as one job array and offers the best trial for audit', async () => {
    const model = `e2e-search-${Date.now().toString(36)}`;
    const base = specFor(model, await sampleData(500));
    const spec = { ...base, training: { ...base.training, search: { trials: 2, concurrency: 2, space: { learningRate: [0.002, 0.0001] } } } };
    const runtime = await startRuntime(config, ['control', 'scoring']);
    const id = lifecycleWorkflowId(model);
    await runtime.runUntil(async () => {
      await client.workflow.start('modelLifecycle', { taskQueue: taskQueues.control, workflowId: id, args: [{ spec, specDir: dataDir }] });
      const audit = await reach(id, 'awaiting_audit');
      const registry = runtime.deps.registry;
      const trials = await Promise.all([0, 1].map((t) => registry.getRun(`${audit.training!.runKey}-t${t}`)));
      expect(trials.map((t) => [t?.trial, t?.state, t?.params.learningRate])).toEqual([
        [0, 'succeeded', 0.002],
        [1, 'succeeded', 0.0001],
      ]);
      const scores = trials.map((t) => t!.metrics.best_val_macro_f1!);
      const best = scores[0]! >= scores[1]! ? 0 : 1;
      const version = await registry.getModelVersion(model, audit.version!);
      expect(version?.artifactUri).toMatch(new RegExp(`/trial-${best}$`));
      expect((await registry.getRun(audit.training!.runKey))?.metrics.best_trial).toBe(best);
      await client.workflow.getHandle(id).terminate('e2e done');
    });
  });

  it('a failing SLURM job fails the lifecycle with the job log tail', async () => {
    const model = `e2e-fail-${Date.now().toString(36)}`;
    const spec = specFor(model, await sampleData(300), { training: { cluster: 'local', pretrainedDir: '/nonexistent/roberta', params: { epochs: 1 } } });
    const runtime = await startRuntime(config, ['control', 'scoring']);
    await runtime.runUntil(async () => {
      const handle = await client.workflow.start('modelLifecycle', {
        taskQueue: taskQueues.control,
        workflowId: lifecycleWorkflowId(model),
        args: [{ spec, specDir: dataDir }],
      });
      const err = await handle.result().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      const message = String((err as WorkflowFailedError).cause?.message);
      expect(message).toMatch(/ended FAILED/);
      expect(message).toContain('/nonexistent/roberta');
    });
  });
});
