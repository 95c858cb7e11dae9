// modelMonitoring: started by a Temporal Schedule every `monitoring.every`. It turns the
// logged predictions and feedback into a report and, when a threshold is crossed, asks the
// lifecycle to retrain. The lifecycle decides whether the request counts.
import { ApplicationFailure, getExternalWorkflowHandle, patched } from '@temporalio/workflow';
import type { ModelSpec } from '../domain/spec';
import { control, scoring } from './activities';
import { MONITOR_ACTOR } from './lifecycle';
import { retrainRequestSignal } from './messages';

/** patched() id of "a monitor whose lifecycle is gone pauses the Schedule" (docs/changing-workflows.md). */
export const PAUSE_WHEN_LIFECYCLE_GONE = 'monitor-pauses-schedule-when-lifecycle-gone';
/** patched() id of "the monitor signs its retrain requests". */
export const MONITOR_SIGNS_RETRAIN_REQUESTS = 'monitor-signs-retrain-requests';

export interface MonitoringInput {
  model: string;
  lifecycleWorkflowId: string;
  labels: string[];
  monitoring: ModelSpec['monitoring'];
  /** Where the live version serves, so predictions are read from its log (absent: the built-in endpoint). */
  deployment?: ModelSpec['deployment'];
}

export interface MonitoringOutcome {
  reportKey: string | null;
  degraded: boolean;
  reasons: string[];
  retrainRequested: boolean;
  /** Why this run paused the Schedule, when it did. */
  schedulePaused?: string;
}

export async function modelMonitoring(input: MonitoringInput): Promise<MonitoringOutcome> {
  const report = await scoring.computeMonitoringReport({
    model: input.model,
    labels: input.labels,
    monitoring: input.monitoring,
    deployment: input.deployment,
  });
  const outcome = { reportKey: report.reportKey, degraded: report.degraded, reasons: report.reasons };
  if (!report.degraded) return { ...outcome, retrainRequested: false };
  // One line of the request: each reason is a sentence, and "now.; output" read badly.
  const reason = report.reasons.map((r) => r.replace(/\.$/, '')).join('; ');
  // The request is signed with the worker's service key, so a lifecycle that requires signed
  // decisions knows it comes from the monitor and not from someone typing its name.
  const signed = patched(MONITOR_SIGNS_RETRAIN_REQUESTS)
    ? await control.signServiceDecision({
        predicate: {
          lifecycle: input.lifecycleWorkflowId,
          generation: null,
          model: input.model,
          version: report.version,
          decision: 'retrain',
          actor: MONITOR_ACTOR,
          reason,
        },
        // Workflow time: the lifecycle judges the statement's freshness by the same clock.
        issuedAt: new Date().toISOString(),
      })
    : undefined;
  try {
    await getExternalWorkflowHandle(input.lifecycleWorkflowId).signal(retrainRequestSignal, {
      actor: MONITOR_ACTOR,
      reason,
      ...(report.reportKey ? { reportKey: report.reportKey } : {}),
      ...(signed ? { signed } : {}),
    });
  } catch (err) {
    // A lifecycle that was cancelled, terminated or failed never paused its Schedule, which
    // then failed a run every interval for as long as the model stayed degraded. Runs
    // recorded before this change failed right here; patched() keeps their replay so.
    if (!isLifecycleGone(err) || !patched(PAUSE_WHEN_LIFECYCLE_GONE)) throw err;
    const why = `lifecycle ${input.lifecycleWorkflowId} is no longer running, so nothing can act on a retrain request; deploying from a new lifecycle resumes monitoring`;
    await control.pauseMonitoringSchedule({ model: input.model, note: why });
    return { ...outcome, retrainRequested: false, schedulePaused: why };
  }
  return { ...outcome, retrainRequested: true };
}

function isLifecycleGone(err: unknown): boolean {
  return err instanceof ApplicationFailure && err.type === 'ExternalWorkflowExecutionNotFound';
}
