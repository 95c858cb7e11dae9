// train: prepare a run folder, submit it to the cluster idempotently, follow it, register
// what it produced. The job runs for hours or days; these activities only bookkeep.
import { Context, log } from '@temporalio/activity';
import { posix } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { getIfExists } from '../adapters/artifacts/manifest';
import type { RunState, RunUpdate } from '../adapters/db/port';
import type { JobStatus } from '../adapters/slurm/port';
import { artifactLayout, runFiles, type ServingPrecision } from '../domain/artifact-layout';
import type { EndedJob } from '../domain/lifecycle';
import {
  parseTrainingProgress,
  PROGRESS_FILE,
  TRIAL_DONE_PHASE,
  trialOfKey,
  type JobProgress,
  type JobWatchBeat,
  type TrainingProgress,
  type TrialProgress,
} from '../domain/training-progress';
import { bestTrial, expandTrials, type SearchSpec } from '../domain/search';
import type { ClusterProfile, TrainingParams } from '../domain/spec';
import type { ActivityDeps } from './deps';
import { userError } from './errors';
import { liveMetricPoints, recordTrainingHistory } from './run-tracking';
import { flattenTrainMetrics, type TrainMetricsFile } from './train-metrics';
import { endOpenTrialRuns, ensureTrialRun, readTrialOverrides, recordTrialOutcome, trialRunKey } from './trial-runs';

export interface PrepareRunInput {
  model: string;
  runKey: string;
  generation: number;
  attempt: number;
  datasetHash: string;
  datasetDir: string;
  labels: string[];
  params: TrainingParams;
  pretrainedDir: string | null;
  /** Warm start: the job starts from this version's weights and tokenizer (training.retrain.from: champion). */
  initFromVersion?: number;
  /** The spec's serving.precision: which ONNX file the job marks for deployment (deploy.json). */
  servingPrecision?: ServingPrecision;
  cluster: string;
  /** Hyperparameter search: trials run as one job array. */
  search?: SearchSpec;
}

export interface PreparedRun {
  runDir: string;
  configFile: string;
  trialsFile?: string;
  trials?: { count: number; concurrency: number };
}

export interface SubmitInput {
  cluster: string;
  /** The run (folder, registry run); also the first submission's idempotency key. */
  runKey: string;
  runDir: string;
  datasetDir: string;
  configFile: string;
  profile: ClusterProfile;
  trialsFile?: string;
  trials?: { count: number; concurrency: number };
  /**
   * A resubmission into the same run folder after the cluster ended the earlier jobs: its own
   * idempotency key (the run key's would hand back the dead job) and those jobs, oldest first.
   */
  resubmission?: { key: string; after: EndedJob[] };
}

export interface AwaitJobInput {
  cluster: string;
  jobId: string;
  runKey: string;
  runDir: string;
  /** Return as soon as the state differs from this (null: return the first state seen). */
  lastState: string | null;
  maxWaitMs?: number;
}

export type ObservedJob = JobStatus & { logTail?: string };

// How often the job watcher heartbeats and reads progress.json: well inside its 30-second
// heartbeat timeout (workflows/activities.ts). What reaches the server is throttled by the
// worker to one beat in 10 s (maxHeartbeatThrottleInterval, workers/runtime.ts).
const PROGRESS_READ_MS = 5_000;

const phaseToRunState: Record<JobStatus['phase'], RunState> = { queued: 'queued', running: 'running', succeeded: 'succeeded', failed: 'failed' };

export function trainingActivities({ store, registry, executor }: ActivityDeps) {
  /**
   * The folder of `version`'s run, relative to the new run's folder (`../<run key>`): the job
   * resolves it against its own folder, so it holds on the cluster's mount of the store too.
   */
  async function warmStartFolder(model: string, version: number, runDir: string): Promise<string> {
    const found = await registry.getModelVersion(model, version);
    if (!found) {
      throw userError(
        'WarmStartVersionMissing',
        `training.retrain.from is champion, but version ${version} of ${model} is not in the registry; retrain from scratch (training.retrain.from: scratch).`,
      );
    }
    return posix.relative(runDir, store.keyOf(found.artifactUri));
  }

  return {
    async prepareTrainingRun(input: PrepareRunInput): Promise<PreparedRun> {
      // Jobs read datasets from, and write runs to, the filesystem they share with the workers.
      if (!store.rootUri.startsWith('file://')) {
        throw userError(
          'ArtifactStoreNotShared',
          `Training jobs write their run folder to the cluster's shared filesystem, but this worker's artifact store is ${store.rootUri}. Point MLC_ARTIFACTS_ROOT at the NFS mount the cluster shares (the artifact store for training); Blob roots serve deployment and scoring workers only.`,
        );
      }
      const runDir = artifactLayout.run(input.model, input.runKey);
      const configFile = `${runDir}/config.json`;
      const config = {
        labels: input.labels,
        datasetHash: input.datasetHash,
        pretrainedDir: input.pretrainedDir,
        ...(input.initFromVersion !== undefined ? { initFrom: await warmStartFolder(input.model, input.initFromVersion, runDir) } : {}),
        params: input.params,
        // Only when not the default: a run prepared before serving existed must compare equal on a retry.
        ...(input.servingPrecision && input.servingPrecision !== 'fp32' ? { serving: { precision: input.servingPrecision } } : {}),
      };
      // Prepared before (a retried activity, a resumed run): the folder and its checkpoints stay.
      await putOnce(input.runKey, configFile, config);
      let search: Pick<PreparedRun, 'trialsFile' | 'trials'> = {};
      if (input.search) {
        const trials = expandTrials(input.search, input.params.seed);
        search = {
          trialsFile: artifactLayout.trialsFile(runDir),
          trials: { count: trials.length, concurrency: Math.min(input.search.concurrency, trials.length) },
        };
        await putOnce(input.runKey, search.trialsFile!, trials);
      }
      const existing = await registry.getRun(input.runKey);
      if (existing && (existing.datasetHash !== input.datasetHash || !sameJson(existing.params, input.params))) {
        throw runConflict(input.runKey, `the registry's run ${input.runKey}`);
      }
      await registry.createRun({
        runKey: input.runKey,
        model: input.model,
        generation: input.generation,
        attempt: input.attempt,
        datasetHash: input.datasetHash,
        cluster: input.cluster,
        params: input.params,
        artifactUri: store.uriOf(runDir),
      });
      return { runDir, configFile, ...search };
    },

    async submitTrainingJob(input: SubmitInput): Promise<{ jobId: string; reused: boolean }> {
      const result = await executor(input.cluster).submit({
        key: input.resubmission?.key ?? input.runKey,
        runDir: input.runDir,
        dataDir: input.datasetDir,
        configFile: input.configFile,
        profile: input.profile,
        ...(input.trials ? { trialsFile: input.trialsFile, trials: input.trials } : {}),
      });
      const again = input.resubmission ? resubmissionUpdate(input.resubmission.after) : {};
      await registry.updateRun(input.runKey, { state: 'submitted', slurmJobId: result.jobId, ...again });
      log.info(result.reused ? 'found the job already submitted for this run' : 'submitted training job', {
        jobId: result.jobId,
        runKey: input.runKey,
        ...(input.resubmission ? { submissionKey: input.resubmission.key, resubmittedAfter: input.resubmission.after } : {}),
      });
      return result;
    },

    /**
     * Wait for the job's next state change (or maxWaitMs), heartbeating all the while. Each
     * heartbeat carries the job's state and what the job last wrote to progress.json (epoch, step,
     * loss, last validation), which `mlc status` and the Web UI's pending activity show.
     */
    async awaitJobChange(input: AwaitJobInput): Promise<ObservedJob> {
      const ctx = Context.current();
      const cluster = executor(input.cluster);
      const abort = new AbortController();
      ctx.cancelled.catch(() => abort.abort());
      let latest: JobStatus | null = null;
      let written: JobProgress = { progress: null, trials: [] };
      const startedTrials = new Set<number>();
      const recordedTrials = new Set<number>(); // finished trials this watch has recorded (or found recorded)
      const heartbeat = () => ctx.heartbeat({ jobState: latest?.state ?? null, ...written } satisfies JobWatchBeat);
      // The beat never waits for the read: a hung share must not stop the heartbeats that keep
      // this watch alive. One read at a time; a fresh one is beaten at once and its epoch recorded.
      let reading = false;
      const refresh = async () => {
        reading = true;
        try {
          const found = await readProgress(input.runDir);
          if (!found || abort.signal.aborted) return;
          for (const trial of found.finishedTrials) if (!recordedTrials.has(trial)) await recordFinishedTrial(input, trial, recordedTrials);
          const read = found.view;
          if (isDeepStrictEqual(read, written)) return;
          const before = written;
          written = read;
          heartbeat();
          if (read.progress) await recordLiveCurves(input.runKey, read.progress);
          const seen = new Map((before.trials ?? []).map((t) => [t.trial, t]));
          for (const trial of read.trials ?? []) {
            // A trial with its DONE is never reopened, even when recording its end just failed.
            if (!isDeepStrictEqual(trial, seen.get(trial.trial)) && !found.finishedTrials.has(trial.trial))
              await recordTrialProgress(input, trial, startedTrials);
          }
        } finally {
          reading = false;
        }
      };
      const beat = setInterval(() => {
        heartbeat();
        // A queued job (hours, on a busy cluster) has written nothing yet, or only what the job it
        // replaces left behind: no reads of the store until it runs.
        if (!reading && latest?.phase === 'running') void refresh();
      }, PROGRESS_READ_MS);
      const timer = setTimeout(() => abort.abort(), input.maxWaitMs ?? 10 * 60_000);
      try {
        const status = await new Promise<JobStatus>((resolve, reject) => {
          cluster
            .waitFor(input.jobId, {
              signal: abort.signal,
              onUpdate: (s) => {
                latest = s;
                heartbeat();
                if (s.state !== input.lastState) resolve(s);
              },
            })
            .then(resolve, (err) => (latest && abort.signal.aborted ? resolve(latest) : reject(err)));
        });
        abort.abort();
        const error = status.phase === 'failed' ? `${status.state}: ${status.reason ?? ''}` : null;
        await registry.updateRun(input.runKey, {
          state: phaseToRunState[status.phase],
          finished: status.phase === 'succeeded' || status.phase === 'failed',
          error,
        });
        if (status.phase !== 'failed') return status;
        await endOpenTrialRuns(registry, input.runKey, { state: 'failed', error });
        const logTail = await cluster.logTail(input.runDir, input.jobId, 40).catch((e: Error) => `(log unavailable: ${e.message})`);
        return { ...status, logTail };
      } finally {
        clearInterval(beat);
        clearTimeout(timer);
      }
    },

    async cancelTrainingJob(input: { cluster: string; jobId: string; runKey: string }): Promise<void> {
      await executor(input.cluster).cancel(input.jobId);
      const ended = { state: 'cancelled', error: 'cancelled with the lifecycle' } as const;
      await registry.updateRun(input.runKey, { ...ended, finished: true });
      await endOpenTrialRuns(registry, input.runKey, ended);
    },

    /**
     * Check the job's outputs, checksum them, and make the run a model version. For a search,
     * every trial becomes a run of its own in the registry and the best one the version.
     */
    async registerTrainedModel(input: { model: string; runKey: string; runDir: string; trials?: number }): Promise<RegisteredModel> {
      if (!input.trials) return { ...(await registerOutputs(input.model, input.runKey, input.runDir)), runDir: input.runDir, trials: [] };
      const overrides = await readTrialOverrides(store, input.runDir);
      const trials: TrialOutcome[] = [];
      for (let trial = 0; trial < input.trials; trial++) {
        const dir = artifactLayout.trial(input.runDir, trial);
        const key = trialRunKey(input.runKey, trial);
        const file = (await store.exists(`${dir}/DONE`)) ? await readMetricsFile(dir) : null;
        if (await ensureTrialRun(registry, store, input.runKey, input.runDir, trial, overrides))
          await recordTrialOutcome(registry, input.runKey, input.runDir, trial, file);
        const metrics = file ? flattenTrainMetrics(file) : {};
        trials.push({ trial, runKey: key, score: metrics.best_val_macro_f1 ?? null });
      }
      const best = bestTrial(trials);
      if (best === null)
        throw userError('AllTrialsFailed', `None of the ${input.trials} trials of ${input.runKey} finished; read their logs (${input.runDir}/slurm-*_N.out).`);
      const winner = trials[best]!;
      const registered = await registerOutputs(input.model, winner.runKey, artifactLayout.trial(input.runDir, best));
      await registry.updateRun(input.runKey, { state: 'succeeded', finished: true, metrics: { ...registered.trainMetrics, best_trial: best } });
      return { ...registered, runDir: artifactLayout.trial(input.runDir, best), trials };
    },
  };

  /** Write `value` as JSON unless the file exists; an existing file must hold the same value. */
  async function putOnce(runKey: string, key: string, value: unknown): Promise<void> {
    if (!(await store.exists(key))) {
      await store.put(key, JSON.stringify(value, null, 2));
      return;
    }
    const before: unknown = JSON.parse((await store.get(key)).toString('utf8'));
    if (!sameJson(before, value)) throw runConflict(runKey, key);
  }

  /**
   * What the job last wrote: a run's progress.json, or each started trial's `trial-<i>/progress.json`
   * for a search, and which trials have finished (their `DONE`); null when the store could not say
   * (it is only a view: the last reading stays).
   */
  async function readProgress(runDir: string): Promise<{ view: JobProgress; finishedTrials: Set<number> } | null> {
    try {
      const own = await getIfExists(store, `${runDir}/${PROGRESS_FILE}`);
      if (own) return { view: { progress: parseTrainingProgress(own.toString('utf8')), trials: [] }, finishedTrials: new Set() };
      const keys = await store.list(runDir);
      const finishedTrials = new Set(keys.map((key) => trialOfKey(runDir, key, 'DONE')).filter((t) => t !== null));
      const trials: TrialProgress[] = [];
      for (const key of keys) {
        const trial = trialOfKey(runDir, key);
        const progress = trial === null ? null : parseTrainingProgress((await store.get(key)).toString('utf8'));
        // A finished trial's file stays at its last phase (exporting); the view says it is done.
        if (trial !== null && progress) trials.push({ trial, progress: finishedTrials.has(trial) ? { ...progress, phase: TRIAL_DONE_PHASE } : progress });
      }
      return { view: { progress: null, trials: trials.sort((a, b) => a.trial - b.trial) }, finishedTrials };
    } catch {
      return null;
    }
  }

  /** Live curves (as MLflow logs them while a run trains); a failed write only costs the live view: the finished job records every point. */
  async function recordLiveCurves(runKey: string, progress: TrainingProgress): Promise<void> {
    try {
      await registry.recordMetricHistory(runKey, liveMetricPoints(progress));
    } catch (err) {
      log.warn('could not record live training curves', { runKey, error: (err as Error).message });
    }
  }

  /**
   * A trial that has started is a run of its own from then on (running until the search is
   * registered), and its curves grow live like a single run's. Only a view: failures are logged.
   */
  async function recordTrialProgress(input: AwaitJobInput, { trial, progress }: TrialProgress, started: Set<number>): Promise<void> {
    if (!started.has(trial)) {
      try {
        if (!(await ensureTrialRun(registry, store, input.runKey, input.runDir, trial))) return;
        await registry.updateRun(trialRunKey(input.runKey, trial), { state: 'running', error: null, finished: false }); // reopened by a resubmitted job, too
        started.add(trial);
      } catch (err) {
        log.warn("could not record a search trial's run", { runKey: input.runKey, trial, error: (err as Error).message });
        return;
      }
    }
    await recordLiveCurves(trialRunKey(input.runKey, trial), progress);
  }

  /**
   * A trial that has finished is recorded at once, its metrics and curves, as the search's
   * registration will; once: a later watch finds it succeeded and reads nothing again. Only a
   * view: failures are logged.
   */
  async function recordFinishedTrial(input: AwaitJobInput, trial: number, finished: Set<number>): Promise<void> {
    const key = trialRunKey(input.runKey, trial);
    try {
      if ((await registry.getRun(key))?.state !== 'succeeded') {
        // Read before anything is written: a metrics.json that cannot be read leaves no run behind.
        const file = await readMetricsFile(artifactLayout.trial(input.runDir, trial));
        if (!(await ensureTrialRun(registry, store, input.runKey, input.runDir, trial))) return;
        await recordTrialOutcome(registry, input.runKey, input.runDir, trial, file);
      }
      finished.add(trial);
    } catch (err) {
      log.warn("could not record a finished search trial's run", { runKey: input.runKey, trial, error: (err as Error).message });
    }
  }

  async function readMetricsFile(runDir: string): Promise<TrainMetricsFile> {
    return JSON.parse((await store.get(`${runDir}/metrics.json`)).toString('utf8')) as TrainMetricsFile;
  }

  async function registerOutputs(model: string, runKey: string, runDir: string) {
    for (const file of ['DONE', 'model.onnx', 'tokenizer.json', 'labels.json', 'metrics.json']) {
      if (!(await store.exists(`${runDir}/${file}`))) {
        throw userError(
          'IncompleteRun',
          `The job for ${runKey} ended COMPLETED but ${runDir}/${file} is missing: train.py did not finish writing its outputs. Read the job log (mlc logs) and rerun.`,
        );
      }
    }
    // The file deploy.json names is the one that will be served: missing, the version could be
    // approved and then fail at deployment.
    if (await store.exists(`${runDir}/${runFiles.deployChoice}`)) {
      const choice = JSON.parse((await store.get(`${runDir}/${runFiles.deployChoice}`)).toString('utf8')) as { file?: string };
      if (typeof choice.file !== 'string' || !Object.values(runFiles.onnx).includes(choice.file) || !(await store.exists(`${runDir}/${choice.file}`))) {
        throw userError(
          'IncompleteRun',
          `${runDir}/${runFiles.deployChoice} names ${JSON.stringify(choice.file)} to serve, which the run folder lacks; rerun the job.`,
        );
      }
    }
    const manifest = await store.writeManifest(runDir);
    const onnx = manifest.files.find((f) => f.key.endsWith('/model.onnx'));
    if (!onnx) throw userError('IncompleteRun', `manifest of ${runDir} has no model.onnx`);
    const metricsFile = await readMetricsFile(runDir);
    const trainMetrics = flattenTrainMetrics(metricsFile);
    await registry.updateRun(runKey, { state: 'succeeded', finished: true, metrics: trainMetrics });
    await recordTrainingHistory(registry, runKey, metricsFile);
    const version = await registry.registerModelVersion({ model, runKey, artifactUri: store.uriOf(runDir), sha256: onnx.sha256, metrics: trainMetrics });
    log.info('registered model version', { model, version, sha256: onnx.sha256, runDir });
    return { version, sha256: onnx.sha256, trainMetrics };
  }
}

/** Equal once written as JSON: key order and undefined fields do not count. */
function sameJson(a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(JSON.parse(JSON.stringify(a) ?? 'null'), JSON.parse(JSON.stringify(b) ?? 'null'));
}

/** A run key names one training run; the same key with other settings would mix two runs' checkpoints. */
function runConflict(runKey: string, holder: string) {
  return userError(
    'RunConflict',
    `Run ${runKey} was prepared before with other settings (${holder} differs from this request): one run key names one training run, and its checkpoints belong to those settings. Start the change as a new attempt (reject with --set) or a new lifecycle; do not reuse the run key.`,
    { runKey, holder },
  );
}

/**
 * The run record after a resubmission: live again (no error), with how many jobs the cluster
 * ended and in which states, as numbers beside its metrics (resubmissions, resubmissions_node_fail, ...).
 * Absolute counts, so a retried activity writes the same values.
 */
export function resubmissionUpdate(after: EndedJob[]): RunUpdate {
  const metrics: Record<string, number> = { resubmissions: after.length };
  for (const job of after) {
    const name = `resubmissions_${job.state.toLowerCase().replace(/[^a-z0-9]+/g, '_')}`;
    metrics[name] = (metrics[name] ?? 0) + 1;
  }
  return { error: null, finished: false, metrics };
}

export interface TrialOutcome {
  trial: number;
  runKey: string;
  /** Best validation macro-F1; null when the trial did not finish. */
  score: number | null;
}

export interface RegisteredModel {
  version: number;
  sha256: string;
  trainMetrics: Record<string, number>;
  /** The folder with the version's files (the best trial's, for a search). */
  runDir: string;
  trials: TrialOutcome[];
}
