// metrics.json → metric history: the points match what slurm/mlc_train writes (history per
// epoch, steps every few steps; see slurm/tests/test_train.py for the Python side of the shape),
// and registering twice writes each point once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMemoryRegistry } from '../adapters/db/memory';
import type { Registry } from '../adapters/db/port';
import { seedRun } from '../test/fakes/registry-fixtures';
import { gitCommitOf, liveMetricPoints, metricPointsFrom, recordTrainingHistory, workerGitCommit } from './run-tracking';

// The shape pipeline.py writes; values as a 2-epoch, 30-step run would give them.
const metricsFile = {
  history: [
    { epoch: 1, step: 15, train_loss: 1.2, val_loss: 1.1, val_accuracy: 0.5, val_macro_f1: 0.4 },
    { epoch: 2, step: 30, train_loss: 0.9, val_loss: 1.0, val_accuracy: 0.6, val_macro_f1: 0.55 },
  ],
  steps: [
    { step: 10, loss: 1.3, lr: 0.0004 },
    { step: 20, loss: 1.0, lr: 0.0003 },
    { step: 30, loss: 0.8, lr: 0.0 },
  ],
  best: { epoch: 2, val_macro_f1: 0.55, val_accuracy: 0.6 },
  code: { git_commit: 'c0ffee'.padEnd(40, '0') },
};

describe('metric history from metrics.json', () => {
  it('turns each epoch and step entry into points, epochs tagged', () => {
    const points = metricPointsFrom(metricsFile);
    expect(points).toHaveLength(2 * 4 + 3 * 2);
    expect(points).toContainEqual({ metric: 'val_macro_f1', step: 30, epoch: 2, value: 0.55 });
    expect(points).toContainEqual({ metric: 'lr', step: 20, epoch: null, value: 0.0003 });
    expect(points.filter((p) => p.metric === 'loss').map((p) => p.step)).toEqual([10, 20, 30]);
    expect(points.some((p) => p.metric === 'epoch' || p.metric === 'step')).toBe(false);
  });

  it("the live points of a running job (progress.json) are its last epoch's, as the finished job records them", () => {
    const running = { phase: 'training', step: 20, loss: 1.0, lr: 0.0003, validation: metricsFile.history[0]!, updatedAt: '2026-11-30T12:00:00+00:00' };
    const live = liveMetricPoints(running);
    expect(live).toHaveLength(4); // the epoch's; step points wait for the finished file (merged past 200)
    for (const point of live) expect(metricPointsFrom(metricsFile)).toContainEqual(point);
    expect(liveMetricPoints({ phase: 'teacher', updatedAt: running.updatedAt })).toEqual([]);
  });

  it("records masked-language-model pretraining's curve beside fine-tuning's, and a file without it (pretrain: null)", () => {
    const pretrained = {
      ...metricsFile,
      pretrain: { history: [1, 2].map((epoch) => ({ epoch, step: 15 * epoch, mlm_loss: 6 - epoch, mlm_accuracy: 0.1 * epoch })), seconds: 4 },
    };
    const points = metricPointsFrom(pretrained);
    expect(points).toHaveLength(2 * 4 + 3 * 2 + 2 * 2);
    expect(points).toContainEqual({ metric: 'mlm_loss', step: 30, epoch: 2, value: 4 });
    expect(metricPointsFrom({ ...metricsFile, pretrain: null })).toEqual(metricPointsFrom(metricsFile));
  });

  it('skips what is not a finite number or lacks a step, and tolerates a file without curves', () => {
    const odd = { history: [{ epoch: 1, step: 5, val_loss: null, val_accuracy: 'x', val_macro_f1: 0.3 }], steps: [{ loss: 1 }, { step: 1.5, loss: 2 }] };
    expect(metricPointsFrom(odd)).toEqual([{ metric: 'val_macro_f1', step: 5, epoch: 1, value: 0.3 }]);
    expect(metricPointsFrom({ best: {} })).toEqual([]);
    expect(metricPointsFrom('not an object')).toEqual([]);
  });

  it("takes the job's commit, else the worker's checkout", async () => {
    expect(await gitCommitOf(metricsFile)).toBe(metricsFile.code.git_commit);
    const worker = await workerGitCommit();
    expect(worker === null || /^[0-9a-f]{40}$/.test(worker)).toBe(true);
    expect(await gitCommitOf({ code: { git_commit: null } })).toBe(worker);
    expect(await gitCommitOf({ code: { git_commit: 'not-a-commit' } })).toBe(worker);
  });
});

describe('recordTrainingHistory', () => {
  let registry: Registry;
  beforeAll(async () => {
    registry = await openMemoryRegistry();
    await seedRun(registry, { version: false });
  }, 120_000); // PGlite starts and migrates in seconds, far slower on a busy machine
  afterAll(() => registry.close());

  it('writes the curves and the commit once, however often the activity runs', async () => {
    await recordTrainingHistory(registry, 'r1', metricsFile);
    await recordTrainingHistory(registry, 'r1', metricsFile);
    expect(await registry.metricHistory('r1')).toHaveLength(14);
    expect((await registry.describeRun('r1'))?.gitCommit).toBe(metricsFile.code.git_commit);
  });
});
