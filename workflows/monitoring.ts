// modelMonitoring: started by a Temporal Schedule every `monitoring.every`. It turns the
// logged predictions and feedback into a report and, when a threshold is crossed, asks the
// lifecycle to retrain. The lifecycle decides whether the request counts.
import { getExternalWorkflowHandle } from '@temporalio/workflow';
import type { ModelSpec } from '../domain/spec';
import { scoring } from './activities';
import { MONITOR_ACTOR } from './lifecycle';
import { retrainRequestSignal } from './messages';

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
}

export async function modelMonitoring(input: MonitoringInput): Promise<MonitoringOutcome> {
  const report = await scoring.computeMonitoringReport({ model: input.model, labels: input.labels, monitoring: input.monitoring, deployment: input.deployment });
  if (!report.degraded) return { reportKey: report.reportKey, degraded: false, reasons: report.reasons, retrainRequested: false };
  await getExternalWorkflowHandle(input.lifecycleWorkflowId).signal(retrainRequestSignal, {
    actor: MONITOR_ACTOR,
    reason: report.reasons.join('; '),
    ...(report.reportKey ? { reportKey: report.reportKey } : {}),
  });
  return { reportKey: report.reportKey, degraded: true, reasons: report.reasons, retrainRequested: true };
}
