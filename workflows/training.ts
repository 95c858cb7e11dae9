// One training attempt: prepare the run folder, submit idempotently, follow the job's state
// changes, and register the result. Failures the cluster caused (node failure, preemption)
// are resubmitted under a new key, up to the spec's bound; anything else stops with the
// job's own words and a hint.
import { ApplicationFailure, CancellationScope, isCancellation } from '@temporalio/workflow';
import { runKeyFor, type TrainingView } from '../domain/lifecycle';
import type { ModelSpec, TrainingParams } from '../domain/spec';
import type { ObservedJob, RegisteredModel } from '../activities/training';
import { control, jobWatch } from './activities';

export interface TrainingRequest {
  /** Identifies the lifecycle's execution chain; run keys (job names, run folders) derive from it. */
  lifecycleKey: string;
  spec: ModelSpec;
  generation: number;
  attempt: number;
  params: TrainingParams;
  datasetHash: string;
  datasetDir: string;
  /** Called on every change so the lifecycle's status query shows the job live. */
  onProgress: (view: TrainingView) => void;
}

export interface TrainedModel extends RegisteredModel {
  runKey: string;
}

export async function trainModel(req: TrainingRequest): Promise<TrainedModel> {
  const { spec } = req;
  const cluster = spec.training.cluster;
  for (let resubmission = 0; ; resubmission++) {
    const runKey = runKeyFor(req.lifecycleKey, req.generation, req.attempt, resubmission);
    const prepared = await control.prepareTrainingRun({
      model: spec.name,
      runKey,
      generation: req.generation,
      attempt: req.attempt,
      datasetHash: req.datasetHash,
      datasetDir: req.datasetDir,
      labels: spec.labels,
      params: req.params,
      pretrainedDir: spec.training.pretrainedDir ?? null,
      cluster,
      ...(spec.training.search ? { search: spec.training.search } : {}),
    });
    const view: TrainingView = {
      runKey,
      runDir: prepared.runDir,
      cluster,
      jobId: null,
      jobState: null,
      jobPhase: null,
      startedAt: new Date().toISOString(),
      elapsedSeconds: null,
    };
    req.onProgress(view);
    const { jobId } = await control.submitTrainingJob({
      cluster,
      runKey,
      runDir: prepared.runDir,
      datasetDir: req.datasetDir,
      configFile: prepared.configFile,
      profile: spec.training.profile,
      ...(prepared.trials ? { trialsFile: prepared.trialsFile, trials: prepared.trials } : {}),
    });
    req.onProgress({ ...view, jobId, jobState: 'SUBMITTED' });

    const final = await followJob(cluster, runKey, prepared.runDir, jobId, (s) =>
      req.onProgress({ ...view, jobId, jobState: s.state, jobPhase: s.phase, elapsedSeconds: s.elapsedSeconds ?? null }),
    );
    if (final.phase === 'succeeded') {
      const registered = await control.registerTrainedModel({
        model: spec.name,
        runKey,
        runDir: prepared.runDir,
        ...(prepared.trials ? { trials: prepared.trials.count } : {}),
      });
      return { runKey, ...registered };
    }
    if (final.retryable && resubmission < spec.training.maxInfraRetries) continue;
    throw ApplicationFailure.nonRetryable(
      `Training job ${jobId} ended ${final.state}${final.exitCode !== undefined ? ` (exit ${final.exitCode})` : ''}: ${final.reason ?? 'see the log'}\n--- last lines of ${prepared.runDir}/slurm-${jobId}.out ---\n${final.logTail ?? '(no log)'}`,
      'TrainingFailed',
      { jobId, state: final.state, runKey },
    );
  }
}

async function followJob(cluster: string, runKey: string, runDir: string, jobId: string, onChange: (s: ObservedJob) => void) {
  let lastState: string | null = null;
  try {
    for (;;) {
      const status: ObservedJob = await jobWatch.awaitJobChange({ cluster, jobId, runKey, runDir, lastState });
      if (status.state !== lastState) onChange(status);
      lastState = status.state;
      if (status.phase === 'succeeded' || status.phase === 'failed') return status;
    }
  } catch (err) {
    // Cancelling the lifecycle must not leave a multi-day job burning GPUs.
    if (isCancellation(err)) {
      await CancellationScope.nonCancellable(() => control.cancelTrainingJob({ cluster, jobId, runKey }));
    }
    throw err;
  }
}
