// A hyperparameter search's trials as runs of their own in the registry, children of the
// search's run, as MLflow nests a tuning job's trials under its parent. A trial's run is made
// when the job watcher first sees it start (so its curves grow live, like a single run's) or,
// for a trial that never started, when the search is registered; both make the same record. A
// trial is recorded as soon as it finishes, and again, harmlessly, at the search's registration.
import type { ArtifactStore } from '../adapters/artifacts/port';
import type { Registry, RunRecord, RunState, RunUpdate } from '../adapters/db/port';
import { artifactLayout } from '../domain/artifact-layout';
import { recordTrainingHistory } from './run-tracking';
import { flattenTrainMetrics, type TrainMetricsFile } from './train-metrics';

export const trialRunKey = (runKey: string, trial: number): string => `${runKey}-t${trial}`;

/** trials.json as prepareTrainingRun wrote it: each trial's parameter overrides, by index. */
export async function readTrialOverrides(store: ArtifactStore, runDir: string): Promise<Record<string, unknown>[]> {
  return JSON.parse((await store.get(artifactLayout.trialsFile(runDir))).toString('utf8')) as Record<string, unknown>[];
}

/**
 * Makes trial `trial`'s run unless it exists: the parent's model, generation, dataset and
 * cluster, the trial's overrides over the parent's params (what the spec asked this trial to
 * train with), the trial's folder. False when the parent run is not in the registry.
 */
export async function ensureTrialRun(
  registry: Registry,
  store: ArtifactStore,
  parentKey: string,
  runDir: string,
  trial: number,
  overrides?: Record<string, unknown>[],
): Promise<boolean> {
  const parent = await registry.getRun(parentKey);
  if (!parent) return false;
  const { model, generation, attempt, datasetHash, cluster } = parent;
  const ownOverrides = (overrides ?? (await readTrialOverrides(store, runDir)))[trial] ?? {};
  const record: RunRecord = {
    model,
    generation,
    attempt,
    datasetHash,
    cluster,
    runKey: trialRunKey(parentKey, trial),
    trial,
    params: { ...parent.params, ...ownOverrides },
    artifactUri: store.uriOf(artifactLayout.trial(runDir, trial)),
  };
  await registry.createRun(record); // a run made before is kept as it is
  return true;
}

/**
 * A trial's end on its run: succeeded with the metrics and curves of its metrics.json, or failed
 * when it left none. Safe to repeat (the first finish time stays): the job watcher records a trial
 * as soon as it finishes, and registering the search records every trial again.
 */
export async function recordTrialOutcome(registry: Registry, parentKey: string, runDir: string, trial: number, file: TrainMetricsFile | null): Promise<void> {
  const runKey = trialRunKey(parentKey, trial);
  const metrics = file ? flattenTrainMetrics(file) : {};
  // The array task's log, as adapters/slurm/sbatch.ts names it (slurm-<array job>_<task>.out).
  const error = file ? null : `trial ${trial} left no outputs (no DONE): read its log, ${runDir}/slurm-*_${trial}.out`;
  await registry.updateRun(runKey, { state: file ? 'succeeded' : 'failed', finished: true, metrics, error });
  if (file) await recordTrainingHistory(registry, runKey, file);
}

const ENDED: readonly RunState[] = ['succeeded', 'failed', 'cancelled'];

/**
 * Ends the trial runs of `parentKey` still open, as the parent ended: a search whose job failed
 * or was cancelled is never registered, and its started trials must not stay running forever.
 * Open by state, which says whether a run is live (a trial reopened by a resubmitted job is running again).
 */
export async function endOpenTrialRuns(registry: Registry, parentKey: string, update: RunUpdate): Promise<void> {
  const parent = await registry.getRun(parentKey);
  if (!parent) return;
  const runs = await registry.listRuns(parent.model);
  const open = runs.filter((r) => r.trial !== null && r.runKey === trialRunKey(parentKey, r.trial) && !ENDED.includes(r.state));
  for (const run of open) await registry.updateRun(run.runKey, { ...update, finished: true });
}
