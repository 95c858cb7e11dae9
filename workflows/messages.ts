// Every message the lifecycle understands. Signals work from `temporal workflow signal` and
// the Web UI; the update variants give the CLI an immediate accepted/refused answer.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { AuditDecision, DeployRequest, LifecycleStatus, RetrainRequest, RollbackRequest, StopRequest, Verdict } from '../domain/lifecycle';

export const auditDecisionSignal = defineSignal<[AuditDecision]>('auditDecision');
export const auditDecisionUpdate = defineUpdate<Verdict, [AuditDecision]>('auditDecisionUpdate');
export const deployRequestSignal = defineSignal<[DeployRequest]>('deployRequest');
export const deployRequestUpdate = defineUpdate<Verdict, [DeployRequest]>('deployRequestUpdate');
/** A deployer puts an earlier approved version back live (while monitoring). */
export const rollbackRequestSignal = defineSignal<[RollbackRequest]>('rollbackRequest');
export const rollbackRequestUpdate = defineUpdate<Verdict, [RollbackRequest]>('rollbackRequestUpdate');
/** An auditor or deployer ends the lifecycle, at any stage but while a version is being deployed. */
export const stopRequestSignal = defineSignal<[StopRequest]>('stopRequest');
export const stopRequestUpdate = defineUpdate<Verdict, [StopRequest]>('stopRequestUpdate');
/** The monitor, or an auditor or deployer, asks for the next generation (while monitoring). */
export const retrainRequestSignal = defineSignal<[RetrainRequest]>('retrainRequest');
export const retrainRequestUpdate = defineUpdate<Verdict, [RetrainRequest]>('retrainRequestUpdate');
export const statusQuery = defineQuery<LifecycleStatus>('status');
