// While a job runs, SLURM says only RUNNING. The job writes progress.json into its run folder
// (slurm/mlc_train/progress.py, the real module here), the job watcher reads it and carries it
// in its heartbeat, and `mlc status` reads that heartbeat back through the payload codec. Here:
// a real job on the dev cluster (one that sleeps: what it runs does not matter to the watcher),
// the real watcher activity over SSH, heartbeats captured by the SDK's mock activity context,
// then one of them encrypted with the product's codec and decoded as the CLI does; the points it
// holds go into the registry as metric history while the job runs.
import { MockActivityEnvironment } from '@temporalio/testing';
import { defaultPayloadConverter, type Client, type WorkflowExecutionDescription } from '@temporalio/client';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createControlActivities, type ActivityDeps } from '../../activities';
import { FsArtifactStore } from '../../adapters/artifacts/fs-store';
import { openRegistry } from '../../adapters/db/open';
import type { Registry } from '../../adapters/db/port';
import { SlurmExecutor } from '../../adapters/slurm/executor';
import { shellCommand } from '../../adapters/slurm/shell';
import { EncryptionCodec } from '../../adapters/temporal-codec/codec';
import type { CodecKey } from '../../adapters/temporal-codec/keys';
import { jobProgressOf, JOB_WATCH_ACTIVITY } from '../../cli/job-progress';
import { jobWatchBeatSchema, formatJobProgress, formatTrainingProgress, type JobWatchBeat } from '../../domain/training-progress';
import { loadConfig, type SlurmClusterConfig } from '../../temporal.config';
import { seedRun } from '../fakes/registry-fixtures';
import { PYTHON, REPO_ROOT } from './helpers/tiny-model';

const config = loadConfig();
const cluster = config.clusters.local as SlurmClusterConfig;
const runKey = `it-progress-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
const runDir = `models/it-progress/runs/${runKey}`;
const env = new MockActivityEnvironment();
const beats: unknown[] = [];
env.on('heartbeat', (details: unknown) => beats.push(details));
const inActivity = <R>(fn: () => Promise<R>): Promise<R> => env.run<[], R, typeof fn>(fn);

let executor: SlurmExecutor;
let registry: Registry;
let store: FsArtifactStore;
let control: ReturnType<typeof createControlActivities>;
let jobId: string;

/** progress.json as the job writes it: the job side's own module, in the run folder the cluster shares. */
async function writeProgress(calls: string, folder = runDir): Promise<void> {
  // A clock 10 s on at each reading: every call writes, however fast they come.
  const script = `import itertools\nfrom pathlib import Path\nfrom mlc_train.progress import Progress\ntick = itertools.count(0, 10)\np = Progress(Path(${JSON.stringify(path.join(store.root, folder))}), clock=lambda: next(tick))\n${calls}`;
  await promisify(execFile)(PYTHON, ['-c', script], { cwd: path.join(REPO_ROOT, 'slurm') });
}

beforeAll(async () => {
  executor = new SlurmExecutor(cluster, { watcher: { intervalMs: 500 } });
  registry = await openRegistry({ dataDir: mkdtempSync(path.join(tmpdir(), 'mlc-progress-')) });
  store = new FsArtifactStore(cluster.artifactsRoot);
  await seedRun(registry, { runKey, version: false }); // its own registry: only the run key matters
  const deps = { config, registry, store, executor: () => executor } as unknown as ActivityDeps;
  control = createControlActivities(deps);
  const submitted = await executor.runner.exec(
    shellCommand([
      'sbatch',
      '--parsable',
      `--job-name=mlc-${runKey}`,
      '--partition=cpu',
      '--mem=100M',
      '--time=00:03:00',
      '--output=/dev/null',
      '--wrap',
      'sleep 150',
    ]),
    { timeoutMs: 30_000 },
  );
  expect(submitted.code, submitted.stderr).toBe(0);
  jobId = submitted.stdout.trim().split(';')[0]!;
});

afterAll(async () => {
  if (jobId) await executor.runner.exec(shellCommand(['scancel', jobId]), { timeoutMs: 30_000 }).catch(() => undefined);
  await executor?.close();
  await registry?.close();
});

describe("the job watcher's heartbeat", () => {
  it('carries what the running job last wrote to progress.json, records its points as live curves, and the CLI decodes it through the codec', async () => {
    for (let i = 0; i < 120; i++) {
      const s = await inActivity(() => control.awaitJobChange({ cluster: 'local', jobId, runKey, runDir, lastState: null }));
      if (s.state === 'RUNNING') break;
      expect(s.phase, `job ${jobId} is ${s.state}`).toBe('queued'); // other suites' jobs may hold the node for a while
      await new Promise((r) => setTimeout(r, 1000));
    }
    await writeProgress(
      `p.phase("teacher")\np.validated({"epoch": 1, "step": 1092, "train_loss": 0.9, "val_loss": 0.74, "val_accuracy": 0.6, "val_macro_f1": 0.5123})\n` +
        `p.step(2, 5, 1450, 5460, 0.81234, 4.5e-4)`,
    );

    beats.length = 0;
    // No state change comes while it sleeps: the watcher waits and heartbeats until maxWaitMs.
    const still = await inActivity(() => control.awaitJobChange({ cluster: 'local', jobId, runKey, runDir, lastState: 'RUNNING', maxWaitMs: 7_000 }));
    expect(still.state).toBe('RUNNING');
    const parsed = beats.map((b) => jobWatchBeatSchema.safeParse(b));
    expect(
      parsed.every((p) => p.success),
      JSON.stringify(beats),
    ).toBe(true);
    const withProgress = parsed.flatMap((p) => (p.success && p.data.progress ? [p.data] : []));
    expect(withProgress.length, JSON.stringify(beats)).toBeGreaterThan(0);
    const beat: JobWatchBeat = withProgress.at(-1)!;
    expect(beat).toMatchObject({
      jobState: 'RUNNING',
      progress: {
        phase: 'training',
        epoch: 2,
        epochs: 5,
        step: 1450,
        steps: 5460,
        loss: 0.81234,
        lr: 4.5e-4,
        validation: { epoch: 1, step: 1092, val_macro_f1: 0.5123, val_accuracy: 0.6 },
      },
    });
    // The epoch curves grow in the registry while the job runs, as the finished job's metrics.json will hold them.
    expect(await registry.metricHistory(runKey)).toEqual([
      { metric: 'train_loss', step: 1092, epoch: 1, value: 0.9 },
      { metric: 'val_accuracy', step: 1092, epoch: 1, value: 0.6 },
      { metric: 'val_loss', step: 1092, epoch: 1, value: 0.74 },
      { metric: 'val_macro_f1', step: 1092, epoch: 1, value: 0.5123 },
    ]);
    expect(formatTrainingProgress(beat.progress!)).toBe(
      'epoch 2/5 · step 1,450/5,460 (26%) · loss 0.8123 · validation (epoch 1) macro_f1 0.5123 accuracy 0.6000',
    );

    // The heartbeat as the server holds it (encrypted by the worker's codec), read back by the CLI.
    const key: CodecKey = { id: 'k1', key: randomBytes(32), source: 'test' };
    const codec = new EncryptionCodec({ primary: key, keys: new Map([['k1', key]]), places: ['test'] });
    const stored = await codec.encode([defaultPayloadConverter.toPayload(beat)]);
    expect(Buffer.from(stored[0]!.data!).toString('latin1')).not.toContain('val_macro_f1');
    const description = { raw: { pendingActivities: [{ activityType: { name: JOB_WATCH_ACTIVITY }, heartbeatDetails: { payloads: stored } }] } };
    const client = { options: { loadedDataConverter: { payloadCodecs: [codec], payloadConverter: defaultPayloadConverter } } };
    expect(await jobProgressOf(client as unknown as Client, description as unknown as WorkflowExecutionDescription)).toEqual({
      progress: beat.progress,
      trials: [],
    });
    // Without the key, or a heartbeat of another shape (an older worker's bare state): no progress, no error.
    const plainOnly = { options: { loadedDataConverter: { payloadCodecs: [], payloadConverter: defaultPayloadConverter } } };
    expect(await jobProgressOf(plainOnly as unknown as Client, description as unknown as WorkflowExecutionDescription)).toBeNull();
    const older = {
      raw: {
        pendingActivities: [
          { activityType: { name: JOB_WATCH_ACTIVITY }, heartbeatDetails: { payloads: await codec.encode([defaultPayloadConverter.toPayload('RUNNING')]) } },
        ],
      },
    };
    expect(await jobProgressOf(client as unknown as Client, older as unknown as WorkflowExecutionDescription)).toBeNull();
  });

  it("reads nothing while the job waits in the queue: what is in its folder is an earlier job's", async () => {
    const queuedDir = `${runDir}-queued`;
    await writeProgress('p.step(3, 3, 80, 90, 0.7, 1e-4)', queuedDir); // as a job the cluster killed left it
    const queued = await executor.runner.exec(
      shellCommand(['sbatch', '--parsable', `--job-name=mlc-${runKey}-q`, '--partition=cpu', '--begin=now+1hour', '--output=/dev/null', '--wrap', 'true']),
      { timeoutMs: 30_000 },
    );
    expect(queued.code, queued.stderr).toBe(0);
    const queuedId = queued.stdout.trim().split(';')[0]!;
    try {
      beats.length = 0;
      const s = await inActivity(() =>
        control.awaitJobChange({ cluster: 'local', jobId: queuedId, runKey, runDir: queuedDir, lastState: 'PENDING', maxWaitMs: 7_000 }),
      );
      expect(s).toMatchObject({ state: 'PENDING', phase: 'queued' });
      expect(beats.length).toBeGreaterThan(0);
      expect(beats.map((b) => jobWatchBeatSchema.parse(b))).toEqual(beats.map(() => ({ jobState: 'PENDING', progress: null, trials: [] })));
    } finally {
      await executor.runner.exec(shellCommand(['scancel', queuedId]), { timeoutMs: 30_000 });
    }
  });

  it("carries a search's trials, each from its trial-<i>/progress.json in trial order; a trial that starts becomes a run with live curves, one that finishes is recorded at once", async () => {
    const searchDir = `${runDir}-search`;
    const overrides = [{ learningRate: 0.002 }, { learningRate: 0.0001 }, { learningRate: 0.0005 }, { learningRate: 0.001 }, { learningRate: 0.003 }];
    await store.put(`${searchDir}/trials.json`, JSON.stringify(overrides));
    await writeProgress('p.phase("teacher")', `${searchDir}/trial-1`);
    await writeProgress(
      'p.validated({"epoch": 1, "step": 30, "train_loss": 1.2, "val_loss": 1.0, "val_accuracy": 0.55, "val_macro_f1": 0.41})\np.step(2, 3, 40, 90, 1.1, 3e-4)',
      `${searchDir}/trial-0`,
    );
    await store.put(`${searchDir}/trial-2/progress.json`, '{"phase": "trai'); // half-written: left out, not an error
    // Trial 3 has finished: its progress.json left at its last phase, its metrics.json (as pipeline.py writes it) and DONE.
    const finished = {
      history: [{ epoch: 1, step: 30, train_loss: 1.0, val_loss: 0.9, val_accuracy: 0.62, val_macro_f1: 0.47 }],
      steps: [{ step: 30, loss: 0.95, lr: 0.0 }],
      best: { epoch: 1, val_macro_f1: 0.47, val_accuracy: 0.62 },
      train_seconds: 12.5,
    };
    await writeProgress('p.phase("exporting")', `${searchDir}/trial-3`);
    await store.put(`${searchDir}/trial-3/metrics.json`, JSON.stringify(finished));
    await store.put(`${searchDir}/trial-3/DONE`, '');
    // Trial 4 has its DONE but its metrics.json cannot be read yet, so recording its end fails.
    await writeProgress('p.phase("exporting")', `${searchDir}/trial-4`);
    await store.put(`${searchDir}/trial-4/metrics.json`, '{"history": [');
    await store.put(`${searchDir}/trial-4/DONE`, '');
    const before = await registry.metricHistory(runKey);
    beats.length = 0;
    await inActivity(() => control.awaitJobChange({ cluster: 'local', jobId, runKey, runDir: searchDir, lastState: 'RUNNING', maxWaitMs: 7_000 }));
    const beat = jobWatchBeatSchema.parse(beats.at(-1));
    expect(beat.progress).toBeNull();
    expect(beat.trials!.map((t) => [t.trial, t.progress.phase, t.progress.step ?? null])).toEqual([
      [0, 'training', 40],
      [1, 'teacher', null],
      [3, 'done', null], // not "exporting", where its file stays
      [4, 'done', null],
    ]);
    expect(formatJobProgress(beat).slice(-2)).toEqual(['trial 3: finished', 'trial 4: finished']);
    // The search's own run gets no points; each started trial is a run of its own, running, with its curves.
    expect(await registry.metricHistory(runKey)).toEqual(before);
    const parent = (await registry.getRun(runKey))!;
    const t0 = await registry.getRun(`${runKey}-t0`);
    expect(t0).toMatchObject({ trial: 0, state: 'running', model: parent.model, params: { ...parent.params, learningRate: 0.002 } });
    expect(t0!.artifactUri).toBe(store.uriOf(`${searchDir}/trial-0`));
    expect(await registry.metricHistory(`${runKey}-t0`)).toEqual([
      { metric: 'train_loss', step: 30, epoch: 1, value: 1.2 },
      { metric: 'val_accuracy', step: 30, epoch: 1, value: 0.55 },
      { metric: 'val_loss', step: 30, epoch: 1, value: 1.0 },
      { metric: 'val_macro_f1', step: 30, epoch: 1, value: 0.41 },
    ]);
    expect(await registry.getRun(`${runKey}-t1`)).toMatchObject({ trial: 1, state: 'running', params: { learningRate: 0.0001 } });
    expect(await registry.metricHistory(`${runKey}-t1`)).toEqual([]);
    expect(await registry.getRun(`${runKey}-t2`)).toBeNull();
    // A finished trial whose end could not be recorded is not opened as a running one.
    expect(await registry.getRun(`${runKey}-t4`)).toBeNull();
    // The finished trial is recorded at once, as the search's registration would record it.
    expect(await registry.getRun(`${runKey}-t3`)).toMatchObject({
      trial: 3,
      state: 'succeeded',
      params: { learningRate: 0.001 },
      metrics: { best_val_macro_f1: 0.47, best_val_accuracy: 0.62, best_epoch: 1, train_seconds: 12.5 },
    });
    expect(await registry.metricHistory(`${runKey}-t3`)).toHaveLength(6);
    const finishedAt = async () => (await registry.listRuns(parent.model)).find((r) => r.runKey === `${runKey}-t3`)!.finishedAt;
    const firstFinish = await finishedAt();
    expect(firstFinish).not.toBeNull();

    // A later watch (one starts at each state change, or every ten minutes) finds trial 3 succeeded
    // and does not read or record it again: a metrics.json changed since is not taken up.
    await store.put(`${searchDir}/trial-3/metrics.json`, JSON.stringify({ ...finished, train_seconds: 99 }));
    await inActivity(() => control.awaitJobChange({ cluster: 'local', jobId, runKey, runDir: searchDir, lastState: 'RUNNING', maxWaitMs: 7_000 }));
    expect((await registry.getRun(`${runKey}-t3`))?.metrics.train_seconds).toBe(12.5);
    await store.put(`${searchDir}/trial-3/metrics.json`, JSON.stringify(finished));

    // Registering the search ends every trial's run, the one that never started made the same way;
    // the finished one keeps its first finish. (Its folder holds no model here, so registration
    // then stops at the winner's missing files.)
    await expect(inActivity(() => control.registerTrainedModel({ model: parent.model, runKey, runDir: searchDir, trials: 4 }))).rejects.toThrow(
      /trial-3\/model\.onnx is missing/,
    );
    const ended = await Promise.all([0, 1, 2, 3].map((t) => registry.getRun(`${runKey}-t${t}`)));
    expect(ended.map((r) => [r?.trial, r?.state, r?.params.learningRate])).toEqual([
      [0, 'failed', 0.002],
      [1, 'failed', 0.0001],
      [2, 'failed', 0.0005],
      [3, 'succeeded', 0.001],
    ]);
    expect(await finishedAt()).toBe(firstFinish);
    expect(ended[2]?.error).toBe(`trial 2 left no outputs (no DONE): read its log, ${searchDir}/slurm-*_2.out`);
    expect(await registry.metricHistory(`${runKey}-t0`)).toHaveLength(4); // the live points stay
  });
});
