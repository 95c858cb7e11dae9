// A training job whose node fails for real (NODE_FAIL on the dev cluster) is resubmitted by the
// activities into the same run folder under its own submission key; the real train.py resumes
// from the checkpoint the dead job left, and the run becomes one registry run and one version.
//
// Forcing NODE_FAIL takes the cluster's one node down, so: the job is told not to requeue
// itself (SLURM would otherwise requeue it on node failure, as production clusters with
// JobRequeue=0 or preemption without requeue do not), the node is drained first and taken down
// only once our job is the last one running on it (other suites' jobs wait, never die), and it
// is resumed in a finally.
import { MockActivityEnvironment } from '@temporalio/testing';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createControlActivities, type ActivityDeps } from '../../activities';
import type { ObservedJob, PrepareRunInput } from '../../activities/training';
import { FsArtifactStore } from '../../adapters/artifacts/fs-store';
import { openRegistry } from '../../adapters/db/open';
import type { Registry } from '../../adapters/db/port';
import { SlurmExecutor } from '../../adapters/slurm/executor';
import { shellCommand } from '../../adapters/slurm/shell';
import { savedCheckpoints } from '../../bench/chaos/node-failure';
import { artifactLayout } from '../../domain/artifact-layout';
import { submissionKeyFor } from '../../domain/lifecycle';
import { clusterProfileSchema, trainingParamsSchema } from '../../domain/spec';
import { loadConfig, type SlurmClusterConfig } from '../../temporal.config';
import { TINY_LABELS, TINY_PARAMS, tinyDataset } from './helpers/tiny-model';

const config = loadConfig();
const cluster = config.clusters.local as SlurmClusterConfig;
const model = 'it-resubmit';
const runKey = `it-resubmit-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
const datasetHash = `h-${runKey}`;
const datasetDir = artifactLayout.dataset(model, datasetHash);
const env = new MockActivityEnvironment();
/** Run an activity call in a mock activity context (heartbeats, cancellation). */
const inActivity = <R>(fn: () => Promise<R>): Promise<R> => env.run<[], R, typeof fn>(fn);

let executor: SlurmExecutor;
let registry: Registry;
let store: FsArtifactStore;
let control: ReturnType<typeof createControlActivities>;

/** One command on the cluster over the executor's SSH connection; its stdout, or a failure naming it. */
async function sh(argv: string[]): Promise<string> {
  const r = await executor.runner.exec(shellCommand(argv), { timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`${argv.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function follow(jobId: string, runDir: string): Promise<ObservedJob> {
  let lastState: string | null = null;
  for (;;) {
    const s: ObservedJob = await inActivity(() => control.awaitJobChange({ cluster: 'local', jobId, runKey, runDir, lastState, maxWaitMs: 60_000 }));
    if (s.phase === 'succeeded' || s.phase === 'failed') return s;
    lastState = s.state;
  }
}

/**
 * Take the job's node down while the job runs, then bring it back. Drained first, so nothing
 * new starts there; taken down only when our job is the last one running on it.
 */
async function failNodeUnder(jobId: string): Promise<void> {
  const node = (await sh(['squeue', '-h', '-j', jobId, '-o', '%N'])).trim();
  expect(node, `job ${jobId} has no node`).toMatch(/^[A-Za-z0-9._-]+$/);
  await sh(['scontrol', 'update', `NodeName=${node}`, 'State=DRAIN', 'Reason=mlc-test-node-fail']);
  try {
    for (let i = 0; ; i++) {
      const running = (await sh(['squeue', '-h', '-w', node, '-t', 'RUNNING,COMPLETING', '-o', '%i'])).split('\n').filter(Boolean);
      if (running.every((id) => id === jobId)) break;
      if (i > 240) throw new Error(`other jobs (${running.join(', ')}) kept running on ${node} for 4 minutes; not taking it down under them`);
      await sleep(1000);
    }
    await sh(['scontrol', 'update', `NodeName=${node}`, 'State=DOWN', 'Reason=mlc-test-node-fail']);
    for (let i = 0; i < 60 && !/NODE_FAIL/.test(await sh(['scontrol', 'show', 'job', jobId])); i++) await sleep(500);
  } finally {
    await sh(['scontrol', 'update', `NodeName=${node}`, 'State=RESUME']);
    for (let i = 0; i < 120 && !/^(idle|mixed|allocated)$/.test((await sh(['sinfo', '-h', '-n', node, '-o', '%T'])).trim()); i++) await sleep(500);
  }
}

beforeAll(async () => {
  executor = new SlurmExecutor(cluster, { watcher: { intervalMs: 500 } });
  registry = await openRegistry({ dataDir: mkdtempSync(path.join(tmpdir(), 'mlc-resubmit-')) });
  // The worker's artifact store is the folder the cluster shares (one machine here).
  store = new FsArtifactStore(cluster.artifactsRoot);
  const splits = { train: tinyDataset(1200, 21), valid: tinyDataset(60, 22), test: tinyDataset(60, 23) };
  for (const [name, rows] of Object.entries(splits)) {
    await store.put(`${datasetDir}/${name}.jsonl`, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  }
  const deps: ActivityDeps = {
    config,
    registry,
    store,
    executor: () => executor,
    loadScorer: () => {
      throw new Error('no scoring in this test');
    },
    temporal: null as never,
    endpointUrl: 'http://127.0.0.1:9',
    azureMl: () => {
      throw new Error('no Azure ML in this test');
    },
  };
  control = createControlActivities(deps);
});

afterAll(async () => {
  for (const key of [runKey, submissionKeyFor(runKey, 1)]) await sh(['scancel', `--name=mlc-${key}`]).catch(() => undefined);
  await executor?.close();
  await registry?.close();
});

describe('a training job whose node fails', () => {
  const input: PrepareRunInput = {
    model,
    runKey,
    generation: 1,
    attempt: 1,
    datasetHash,
    datasetDir,
    labels: TINY_LABELS,
    // Small batches and frequent checkpoints: the node fails well before the end.
    params: trainingParamsSchema.parse({ ...TINY_PARAMS, epochs: 4, batchSize: 4, checkpointEverySteps: 20, patience: 10 }),
    pretrainedDir: null,
    cluster: 'local',
  };
  const profile = clusterProfileSchema.parse({ memory: '3G', timeLimit: '00:10:00' });

  it('is resubmitted into the same run folder, resumes from its checkpoint, and is registered once', async () => {
    const prepared = await inActivity(() => control.prepareTrainingRun(input));
    const submit = { cluster: 'local', runKey, runDir: prepared.runDir, datasetDir, configFile: prepared.configFile, profile };
    const first = await inActivity(() => control.submitTrainingJob(submit));
    // Left to itself SLURM requeues a job on node failure; production clusters that do not are what this covers.
    await sh(['scontrol', 'update', `JobId=${first.jobId}`, 'Requeue=0']);
    const log1 = () => executor.logTail(prepared.runDir, first.jobId, 400).catch(() => '');
    for (let i = 0; i < 600 && !/checkpoint saved \(reason: interval\)/.test(await log1()); i++) await sleep(500);
    expect(await log1()).toMatch(/checkpoint saved/);

    await failNodeUnder(first.jobId);
    const dead = await follow(first.jobId, prepared.runDir);
    expect(dead, await log1()).toMatchObject({ state: 'NODE_FAIL', phase: 'failed', retryable: true });
    expect(await registry.getRun(runKey)).toMatchObject({ state: 'failed', slurmJobId: first.jobId });
    const finishedAt = async () => (await registry.listRuns(model)).find((r) => r.runKey === runKey)!.finishedAt;
    const failedAt = await finishedAt();
    expect(failedAt).not.toBeNull();
    const checkpoint = path.join(store.root, prepared.runDir, 'checkpoints/last.pt');
    expect(existsSync(checkpoint)).toBe(true);

    // A retried prepare finds the run as it was: same folder, checkpoints untouched.
    const config = readFileSync(path.join(store.root, prepared.configFile), 'utf8');
    expect(await inActivity(() => control.prepareTrainingRun(input))).toEqual(prepared);
    expect(readFileSync(path.join(store.root, prepared.configFile), 'utf8')).toBe(config);
    expect(existsSync(checkpoint)).toBe(true);

    const resubmission = { key: submissionKeyFor(runKey, 1), after: [{ jobId: first.jobId, state: dead.state, reason: dead.reason ?? null }] };
    const second = await inActivity(() => control.submitTrainingJob({ ...submit, resubmission }));
    expect(second.reused).toBe(false);
    expect(second.jobId).not.toBe(first.jobId);
    // A retried resubmission finds its own job, not the dead one and not a third.
    expect(await inActivity(() => control.submitTrainingJob({ ...submit, resubmission }))).toEqual({ jobId: second.jobId, reused: true });
    expect(await registry.getRun(runKey)).toMatchObject({
      slurmJobId: second.jobId,
      error: null,
      metrics: { resubmissions: 1, resubmissions_node_fail: 1 },
    });
    expect(await finishedAt()).toBeNull(); // live again: its duration (mlc runs) runs on until it ends

    const final = await follow(second.jobId, prepared.runDir);
    const log2 = await executor.logTail(prepared.runDir, second.jobId, 400);
    expect(final, log2).toMatchObject({ state: 'COMPLETED', phase: 'succeeded' });
    // From the last checkpoint the dead job saved (on the SIGTERM the node failure sent, or an interval).
    const resumedAt = Number(/resuming from checkpoint at step (\d+)/.exec(log2)?.[1]);
    const savedByFirst = savedCheckpoints(await log1()).map((c) => c.step);
    expect(resumedAt, log2).toBeGreaterThan(0);
    expect(resumedAt).toBe(Math.max(...savedByFirst));
    expect(log2).toMatch(/^done: /m);
    // Both jobs' logs stay in the one run folder.
    expect(await log1()).not.toMatch(/resuming from checkpoint/);
    expect(existsSync(path.join(store.root, prepared.runDir, `slurm-${first.jobId}.out`))).toBe(true);

    const registered = await inActivity(() => control.registerTrainedModel({ model, runKey, runDir: prepared.runDir }));
    expect(registered.version).toBe(1);
    expect(await registry.getModelVersion(model, 2)).toBeNull();
    expect(await registry.getRun(runKey)).toMatchObject({ state: 'succeeded', slurmJobId: second.jobId, metrics: { resubmissions: 1 } });
    expect(Date.parse((await finishedAt())!)).toBeGreaterThan(Date.parse(failedAt!));
  });

  it('refuses to prepare the same run key with other parameters: its checkpoints belong to the first', async () => {
    const other = { ...input, params: { ...input.params, learningRate: input.params.learningRate * 2 } };
    await expect(inActivity(() => control.prepareTrainingRun(other))).rejects.toMatchObject({ type: 'RunConflict', nonRetryable: true });
    await expect(inActivity(() => control.prepareTrainingRun({ ...input, datasetHash: 'another' }))).rejects.toMatchObject({ type: 'RunConflict' });
  });

  it("points a warm start at the deployed version's run folder, beside its own, and refuses a version the registry lacks", async () => {
    const warmModel = `${model}-warm`;
    const earlierRun = `${runKey}-earlier`;
    const version = await registry.registerModelVersion({
      model: warmModel,
      runKey: earlierRun,
      artifactUri: store.uriOf(artifactLayout.run(warmModel, earlierRun)),
      sha256: 'f'.repeat(64),
      metrics: {},
    });
    const warm = { ...input, model: warmModel, runKey: `${runKey}-g2`, generation: 2, initFromVersion: version };
    const prepared = await inActivity(() => control.prepareTrainingRun(warm));
    // Relative to the new run's folder, so it resolves on the cluster's mount of the store as well.
    expect(JSON.parse((await store.get(prepared.configFile)).toString())).toMatchObject({ initFrom: `../${earlierRun}` });
    await expect(inActivity(() => control.prepareTrainingRun({ ...warm, runKey: `${runKey}-g3`, initFromVersion: version + 5 }))).rejects.toMatchObject({
      type: 'WarmStartVersionMissing',
      nonRetryable: true,
    });
  });
});
