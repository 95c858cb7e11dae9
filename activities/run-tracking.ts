// What a finished training job leaves in the registry beyond the run's summary numbers: its
// curves (per-epoch validation metrics and mean loss, per-step loss and learning rate, and the
// masked-language-model pretraining's per-epoch loss and accuracy when it ran, from metrics.json)
// as metric history, and the commit of the code that trained it. Safe to run
// twice: history points are keyed by (run, metric, step), and the commit is the same value.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { z } from 'zod';
import type { MetricPoint, Registry } from '../adapters/db/port';
import type { TrainingProgress } from '../domain/training-progress';
import { repoRoot } from '../temporal.config';

const finite = z.number().refine(Number.isFinite);
// Loose on purpose: a key this version does not know is ignored, not a failed registration.
const metricsFileSchema = z.object({
  history: z.array(z.record(z.string(), z.unknown())).optional(),
  steps: z.array(z.record(z.string(), z.unknown())).optional(),
  // Its metric names (mlm_loss, mlm_accuracy) are its own, so its steps never collide with fine-tuning's.
  pretrain: z.object({ history: z.array(z.record(z.string(), z.unknown())).optional() }).nullish(),
  code: z
    .object({
      git_commit: z
        .string()
        .regex(/^[0-9a-f]{40}$/)
        .nullish(),
    })
    .optional(),
});

/** The points of metrics.json's `history` (one per epoch), `steps` (every few steps) and `pretrain.history`. */
export function metricPointsFrom(metricsFile: unknown): MetricPoint[] {
  const parsed = metricsFileSchema.safeParse(metricsFile);
  if (!parsed.success) return [];
  const points: MetricPoint[] = [];
  const add = (entries: Record<string, unknown>[] | undefined, epochOf: (e: Record<string, unknown>) => number | null) => {
    for (const entry of entries ?? []) {
      const step = entry.step;
      if (!Number.isInteger(step)) continue;
      for (const [metric, value] of Object.entries(entry)) {
        if (metric === 'step' || metric === 'epoch' || !finite.safeParse(value).success) continue;
        points.push({ metric, step: step as number, epoch: epochOf(entry), value: value as number });
      }
    }
  };
  const epochOf = (e: Record<string, unknown>) => (Number.isInteger(e.epoch) ? (e.epoch as number) : null);
  add(parsed.data.history, epochOf);
  add(parsed.data.steps, () => null);
  add(parsed.data.pretrain?.history, epochOf);
  return points;
}

/** The job's own commit when it could tell (its checkout on the cluster), else the worker's. */
export async function gitCommitOf(metricsFile: unknown): Promise<string | null> {
  const parsed = metricsFileSchema.safeParse(metricsFile);
  return (parsed.success ? parsed.data.code?.git_commit : null) ?? (await workerGitCommit());
}

let workerCommit: Promise<string | null> | undefined;

/** `git rev-parse HEAD` of the worker's checkout, asked once per process; null outside git. */
export function workerGitCommit(): Promise<string | null> {
  workerCommit ??= promisify(execFile)('git', ['rev-parse', 'HEAD'], { cwd: repoRoot, timeout: 10_000 }).then(
    ({ stdout }) => (/^[0-9a-f]{40}$/.test(stdout.trim()) ? stdout.trim() : null),
    () => null,
  );
  return workerCommit;
}

/** Records the run's curves and code commit from its parsed metrics.json. */
/**
 * The per-epoch points a running job's progress.json holds (its last validation), keyed and valued
 * as metrics.json's `history` will hold them, so the epoch curves grow in the registry while the
 * job runs. Not its step loss: a long run's metrics.json merges step points into 200
 * (bounded_steps), so a live step point could be one the finished run does not have.
 */
export function liveMetricPoints(progress: TrainingProgress): MetricPoint[] {
  return metricPointsFrom({ history: progress.validation ? [progress.validation] : [] });
}

export async function recordTrainingHistory(registry: Registry, runKey: string, metricsFile: unknown): Promise<void> {
  await registry.updateRun(runKey, { gitCommit: await gitCommitOf(metricsFile) });
  await registry.recordMetricHistory(runKey, metricPointsFrom(metricsFile));
}
