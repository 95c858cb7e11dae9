// modelMonitoring as it would be had the "pause the Schedule when the lifecycle is gone"
// change gone in without patched(): replay.test.ts bundles it on its own and shows that the
// history recorded before the change no longer replays. Never registered by a worker.
import { ApplicationFailure, getExternalWorkflowHandle } from '@temporalio/workflow';
import { control, scoring } from '../../workflows/activities';
import { MONITOR_ACTOR } from '../../domain/lifecycle';
import { retrainRequestSignal } from '../../workflows/messages';
import type { MonitoringInput, MonitoringOutcome } from '../../workflows/monitoring';

export async function modelMonitoring(input: MonitoringInput): Promise<MonitoringOutcome> {
  const report = await scoring.computeMonitoringReport({
    model: input.model,
    labels: input.labels,
    monitoring: input.monitoring,
    deployment: input.deployment,
  });
  const outcome = { reportKey: report.reportKey, degraded: report.degraded, reasons: report.reasons };
  if (!report.degraded) return { ...outcome, retrainRequested: false };
  try {
    await getExternalWorkflowHandle(input.lifecycleWorkflowId).signal(retrainRequestSignal, { actor: MONITOR_ACTOR, reason: report.reasons.join('; ') });
  } catch (err) {
    if (!(err instanceof ApplicationFailure && err.type === 'ExternalWorkflowExecutionNotFound')) throw err;
    await control.pauseMonitoringSchedule({ model: input.model, note: 'lifecycle gone' });
    return { ...outcome, retrainRequested: false, schedulePaused: 'lifecycle gone' };
  }
  return { ...outcome, retrainRequested: true };
}
