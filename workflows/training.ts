// One training attempt: prepare the run folder, submit idempotently, follow the job's state
// changes, and register the result. Failures the cluster caused (node failure, preemption)
// are resubmitted into the same run folder, where train.py resumes from the checkpoints the
// dead job left, up to the spec's bound; anything else stops with the job's own words and a hint.
import { ApplicationFailure, CancellationScope, isCancellation, patched } from '@temporalio/workflow';
import { runKeyFor, submissionKeyFor, type EndedJob, type TrainingView } from '../domain/lifecycle';
import type { ModelSpec, TrainingParams } from '../domain/spec';
import type { ObservedJob, PreparedRun, RegisteredModel } from '../activities/training';
import { control, jobWatch } from './activities';

/** patched() id of "a resubmission keeps the run (folder, registry run) and resumes" (docs/changing-workflows.md). */
export const RESUBMIT_SAME_RUN_FOLDER = 'resubmit-same-run-folder';

export interface TrainingRequest {
  /** Identifies the lifecycle's execution chain; run keys (job names, run folders) derive from it. */
  lifecycleKey: string;
  spec: ModelSpec;
  generation: number;
  attempt: number;
  params: TrainingParams;
  /** Warm start: the version whose weights and tokenizer the job starts from (null: from scratch). */
  initFromVersion?: number | null;
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
  let runKey = runKeyFor(req.lifecycleKey, req.generation, req.attempt);
  let prepared = await prepareRun(req, runKey);
  const ended: EndedJob[] = [];
  // Decided once, at the first resubmission: a history recorded before this change resubmitted
  // into a new folder there, and replays (and carries on) that way; later ones stay in one folder.
  let sameFolder: boolean | undefined;
  for (let resubmission = 0; ; resubmission++) {
    let submissionKey = runKey;
    if (resubmission > 0) {
      sameFolder ??= patched(RESUBMIT_SAME_RUN_FOLDER);
      if (sameFolder) {
        submissionKey = submissionKeyFor(runKey, resubmission);
      } else {
        runKey = submissionKey = runKeyFor(req.lifecycleKey, req.generation, req.attempt, resubmission);
        prepared = await prepareRun(req, runKey);
      }
    }
    const view: TrainingView = {
      runKey,
      runDir: prepared.runDir,
      cluster,
      jobId: null,
      jobState: null,
      jobPhase: null,
      startedAt: new Date().toISOString(),
      elapsedSeconds: null,
      resubmittedAfter: [...ended],
      ...(req.initFromVersion != null ? { warmStartFrom: req.initFromVersion } : {}),
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
      ...(submissionKey !== runKey ? { resubmission: { key: submissionKey, after: [...ended] } } : {}),
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
    if (final.retryable && resubmission < spec.training.maxInfraRetries) {
      ended.push({ jobId, state: final.state, reason: final.reason ?? null });
      continue;
    }
    throw ApplicationFailure.nonRetryable(failureMessage(final, prepared.runDir, ended, spec.training.maxInfraRetries), 'TrainingFailed', {
      jobId,
      state: final.state,
      runKey,
      resubmissions: ended.length,
    });
  }
}

function prepareRun(req: TrainingRequest, runKey: string): Promise<PreparedRun> {
  const { spec } = req;
  return control.prepareTrainingRun({
    model: spec.name,
    runKey,
    generation: req.generation,
    attempt: req.attempt,
    datasetHash: req.datasetHash,
    datasetDir: req.datasetDir,
    labels: spec.labels,
    params: req.params,
    pretrainedDir: spec.training.pretrainedDir ?? null,
    // Only when set: a run prepared before warm starts existed must get the same input on a retry.
    ...(req.initFromVersion != null ? { initFromVersion: req.initFromVersion } : {}),
    // Optional chaining: a spec parsed before `serving` existed (an older history) has none.
    servingPrecision: spec.serving?.precision ?? 'fp32',
    cluster: spec.training.cluster,
    ...(spec.training.search ? { search: spec.training.search } : {}),
  });
}

/** The job's own words and log tail; for a cluster failure past the bound, also every earlier job and the knob. */
function failureMessage(final: ObservedJob, runDir: string, ended: EndedJob[], maxInfraRetries: number): string {
  const exit = final.exitCode !== undefined ? ` (exit ${final.exitCode})` : '';
  const head = `Training job ${final.jobId} ended ${final.state}${exit}: ${final.reason ?? 'see the log'}`;
  const jobs = [...ended, final].map((j) => `${j.jobId} ${j.state}`).join(', ');
  const retries = final.retryable
    ? `\nThe cluster ended every job of this run (${jobs}); it was resubmitted ${ended.length} time(s), the most training.maxInfraRetries (${maxInfraRetries}) allows. ` +
      "Ask the cluster's admins why its jobs die (`scontrol show node`, the slurmctld log), or raise training.maxInfraRetries."
    : '';
  return `${head}${retries}\n--- last lines of ${runDir}/slurm-${final.jobId}.out ---\n${final.logTail ?? '(no log)'}`;
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
