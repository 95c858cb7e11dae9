// Driving a lifecycle from a test: poll its status until something holds, and take version 1
// live with the roles every workflow test's spec names (auditor alice, deployer bob).
import type { WorkflowHandle } from '@temporalio/client';
import type { LifecycleStatus, Stage } from '../../domain/lifecycle';
import type { ModelSpec } from '../../domain/spec';
import { taskQueues } from '../../domain/temporal-names';
import { auditDecisionUpdate, deployRequestUpdate, statusQuery } from '../../workflows/messages';
import type { WorkflowSuite } from './env';

/** Starts lifecycles of `spec` (or another) on the suite's server, as `<prefix>-1`, `<prefix>-2`, … */
export function lifecycleStarter(suite: WorkflowSuite, prefix: string, spec: ModelSpec): (withSpec?: ModelSpec) => Promise<WorkflowHandle> {
  let n = 0;
  return (withSpec = spec) =>
    suite.env.client.workflow.start('modelLifecycle', {
      taskQueue: taskQueues.control,
      workflowId: `${prefix}-${++n}`,
      args: [{ spec: withSpec, specDir: '/tmp' }],
    });
}

/**
 * The status, or null when the query fails or takes over 5 s. The time-skipping server can lose a
 * query that reaches a run as it continues as new: unbounded, it waited until the server cut the
 * connection for its keepalive pings, some 80 s later (seen on a loaded 2-vCPU machine).
 */
const status = (h: WorkflowHandle): Promise<LifecycleStatus | null> =>
  h.client.connection.withDeadline(Date.now() + 5_000, () => h.query(statusQuery)).catch(() => null);

/** Poll the status query until `done` holds (60 s at most), then return that status. */
export async function until(h: WorkflowHandle, done: (s: LifecycleStatus) => boolean, what: string): Promise<LifecycleStatus> {
  for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
    const s = await status(h);
    if (s && done(s)) return s;
    await new Promise((r) => setTimeout(r, 50));
  }
  const last = await status(h);
  throw new Error(`${h.workflowId} never ${what} in 60 s; last status: ${last ? JSON.stringify(last) : 'no answer within 5 s'}`);
}

export function reach(h: WorkflowHandle, stage: Stage, generation = 1): Promise<LifecycleStatus> {
  return until(h, (s) => s.stage === stage && s.generation === generation, `reached ${stage} (generation ${generation})`);
}

/** Version 1 approved by alice and deployed by bob: the lifecycle monitors it. */
export async function deployFirstVersion(h: WorkflowHandle): Promise<LifecycleStatus> {
  await reach(h, 'awaiting_audit');
  await h.executeUpdate(auditDecisionUpdate, { args: [{ decision: 'approve', actor: 'alice', reason: 'ok' }] });
  await h.executeUpdate(deployRequestUpdate, { args: [{ actor: 'bob' }] });
  return reach(h, 'monitoring');
}
