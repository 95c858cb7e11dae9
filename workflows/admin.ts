// Short workflows that let `mlc` reach the registry through a worker: the embedded registry
// (PGlite) belongs to the worker's process, and with PostgreSQL the history then also shows
// who registered or revoked a key, and when.
import type { DecisionLogReport } from '../activities/signing';
import type { MonitoringRunSummary } from '../domain/monitoring/report';
import type { CheckSpecDataInput } from '../activities/preprocess';
import type { TrackingRequest } from '../activities/tracking';
import { control } from './activities';

export type SigningKeyChange = { action: 'add'; name: string; publicKey: string; addedBy: string } | { action: 'revoke'; publicKey: string };

export async function changeSigningKey(change: SigningKeyChange): Promise<{ keyId?: string; revoked?: boolean }> {
  if (change.action === 'add') return control.registerSigningKey(change);
  return { revoked: await control.revokeSigningKey({ publicKey: change.publicKey }) };
}

export async function listSigningKeys(input: { name?: string }) {
  return control.listSigningKeys(input);
}

/** A model's monitoring runs, newest first: `mlc monitor --history` and `mlc status` on the embedded registry. */
export async function monitoringHistory(input: { model: string; limit?: number }): Promise<MonitoringRunSummary[]> {
  return control.listMonitoringReports(input);
}

/** Re-checks a model's decision log: every hash link and every signature. */
export async function verifyDecisionLog(input: { model: string }): Promise<DecisionLogReport> {
  return control.verifyDecisionLog(input);
}

/** Runs, curves, versions and aliases for `mlc runs` / `mlc alias` / `mlc evaluate` (activities/tracking.ts). */
export async function trackingRequest(request: TrackingRequest): Promise<unknown> {
  return control.answerTrackingRequest(request);
}

/** `mlc validate --on-worker`: the spec's data as the worker reads it (activities/preprocess.ts). */
export async function dataCheckRequest(input: CheckSpecDataInput) {
  return control.checkSpecData(input);
}
