// A version can be monitored for years. Every rollback, refused message and retrain request
// lengthens the history, so when the server suggests it the wait continues as new: same
// generation, same live version, a bounded summary of decisions, and nothing refused or
// recorded twice on the way. A real dev server suggests continue-as-new after a short history
// here (limit.historyCount.suggestContinueAsNew), which the time-skipping server never does.
import type { WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundle } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RECENT_DECISIONS_KEPT } from '../../domain/history-summary';
import { parseSpec } from '../../domain/spec';
import { taskQueues } from '../../domain/temporal-names';
import {
  auditDecisionUpdate,
  deployRequestUpdate,
  retrainRequestSignal,
  retrainRequestUpdate,
  rollbackRequestSignal,
  statusQuery,
  stopRequestUpdate,
} from '../../workflows/messages';
import { devServerEnv, workflowBundle } from './env';
import { fakeActivities } from './fake-activities';
import { fakeEvidence } from './fake-signing';

const spec = parseSpec({
  name: 'can-test',
  labels: ['neg', 'pos'],
  data: { path: 'data.jsonl' },
  gates: [{ metric: 'macro_f1', min: 0.3 }],
  roles: { auditors: ['alice'], deployers: ['bob'] },
});

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundle;

beforeAll(async () => {
  [env, bundle] = await Promise.all([devServerEnv(['limit.historyCount.suggestContinueAsNew=100']), workflowBundle()]);
});
afterAll(async () => {
  await env?.teardown();
});

async function until<T>(read: () => Promise<T | null>, done: (s: T) => boolean, what: string): Promise<T> {
  let last: T | null = null;
  for (let i = 0; i < 600; i++) {
    last = await read().catch(() => null);
    if (last && done(last)) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`never ${what}; last: ${JSON.stringify(last)}`);
}

/** Runs `fn` on lifecycle `workflowId` once version 1 is approved, deployed and monitored, with workers on `fakes`. */
async function monitored(
  fakes: ReturnType<typeof fakeActivities>,
  workflowId: string,
  fn: (h: WorkflowHandleWithFirstExecutionRunId, workflowId: string) => Promise<void>,
) {
  const control = await Worker.create({ connection: env.nativeConnection, taskQueue: taskQueues.control, workflowBundle: bundle, activities: fakes.control });
  const scoring = await Worker.create({ connection: env.nativeConnection, taskQueue: taskQueues.scoring, activities: fakes.scoring });
  await control.runUntil(
    scoring.runUntil(async () => {
      const h = await env.client.workflow.start('modelLifecycle', { taskQueue: taskQueues.control, workflowId, args: [{ spec, specDir: '/tmp' }] });
      const status = () => h.query(statusQuery);
      await until(status, (s) => s.stage === 'awaiting_audit', 'awaited audit');
      await h.executeUpdate(auditDecisionUpdate, { args: [{ decision: 'approve', actor: 'alice', reason: 'meets the bar', version: 1 }] });
      await until(status, (s) => s.stage === 'awaiting_deploy', 'awaited deploy');
      await h.executeUpdate(deployRequestUpdate, { args: [{ actor: 'bob', reason: 'release 1' }] });
      await until(status, (s) => s.stage === 'monitoring', 'monitored');
      await fn(h, workflowId);
    }),
  );
}

describe('a long monitoring wait', () => {
  it('continues as new when suggested, keeping the live version, the approvals and unique decision keys', async () => {
    const fakes = fakeActivities();
    await monitored(fakes, 'lifecycle-can', async (h, workflowId) => {
      const latest = () => env.client.workflow.getHandle(workflowId);
      const status = () => latest().query(statusQuery);

      // Each refused rollback is a signal plus a recorded decision: the history grows.
      for (let i = 0; i < 60; i++) await latest().signal(rollbackRequestSignal, { actor: 'mallory', version: 1, reason: `spam ${i}` });
      // Read the status only from a later run: the first run can answer with fewer decisions than
      // were recorded while an activity's completion is still on its way to it.
      const fromContinuedRun = async () => ((await latest().describe()).runId === h.firstExecutionRunId ? null : status());
      const resumed = await until(fromContinuedRun, () => fakes.decisions.length === 2 + 60, 'recorded every refusal and continued as new');
      // Visibility is eventually consistent: the closed run can reach the list a moment after the new one answers.
      const listed = async () => {
        const statuses: string[] = [];
        for await (const run of env.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) statuses.push(run.status.name);
        return statuses;
      };
      const runs = await until(listed, (r) => r.includes('CONTINUED_AS_NEW'), 'listed the continued run').catch(() => listed());
      expect(runs.filter((s) => s === 'CONTINUED_AS_NEW').length).toBeGreaterThanOrEqual(1);
      expect(resumed).toMatchObject({ stage: 'monitoring', generation: 1, deployedVersion: 1, version: 1, artifactSha256: 'sha-1' });
      expect(resumed.decisions.length).toBeLessThanOrEqual(RECENT_DECISIONS_KEPT + 1);
      expect(resumed.decisions[0]).toMatchObject({ kind: 'audit', outcome: 'approved', version: 1 });
      // Refused for the right reason, not as "sent before the version was live" by the new run.
      expect(fakes.decisions.slice(2).every((d) => d.outcome === 'refused' && /not a deployer/.test(d.reason))).toBe(true);
      expect(new Set(fakes.decisions.map((d) => d.decisionKey)).size).toBe(fakes.decisions.length);
      // Training happened once: the resumed runs went straight back to monitoring.
      expect(fakes.named('prepareTrainingRun')).toHaveLength(1);
      expect(fakes.named('ensureMonitoringSchedule')).toHaveLength(1);

      // And the resumed run still acts: a retrain request starts generation 2.
      await latest().signal(retrainRequestSignal, { actor: 'mlc-monitor', reason: 'drift' });
      await until(status, (s) => s.generation === 2 && s.stage === 'awaiting_audit', 'retrained');
      expect(fakes.named('prepareTrainingRun')).toHaveLength(2);
      await latest().terminate('test done');
    });
  });

  it('judges an update that arrives while it waits for other handlers before continuing as new, instead of waiting on it for ever', async () => {
    const fakes = fakeActivities();
    // A signed stop is judged for 12 s: its handler is still running when the history passes the limit.
    const open = fakes.control.openSignedDecision.bind(fakes.control);
    fakes.control.openSignedDecision = async (input) => {
      await new Promise((r) => setTimeout(r, 12_000));
      return open(input);
    };
    await monitored(fakes, 'lifecycle-can-race', async (h, workflowId) => {
      // Signed as an approval, so it is refused once judged: the lifecycle goes on.
      const about = { lifecycle: workflowId, generation: 1, model: spec.name, version: 1, decision: 'approve' as const, reason: 'halt' };
      const slowStop = h.executeUpdate(stopRequestUpdate, { args: [{ actor: 'bob', reason: 'halt', signed: fakes.sign('bob', about, fakeEvidence(1)) }] });
      // Refused rollbacks take the history past the limit; the run then waits for the stop's handler.
      for (let i = 0; i < 30; i++) await h.signal(rollbackRequestSignal, { actor: 'mallory', version: 1, reason: `spam ${i}` });
      const refusedRollbacks = () => fakes.decisions.filter((d) => d.kind === 'rollback').length;
      await until(
        async () => refusedRollbacks(),
        (n) => n === 30,
        'refused every rollback',
      );
      await new Promise((r) => setTimeout(r, 500)); // the run takes in the last recording and finds the limit passed
      expect((await h.describe()).runId).toBe(h.firstExecutionRunId); // held back by the stop's handler
      const retrain = h.executeUpdate(retrainRequestUpdate, { args: [{ actor: 'alice', reason: 'new labels' }] });
      const waited = new Promise((r) => setTimeout(() => r('still waiting after 6 s'), 6000));
      expect(await Promise.race([retrain, waited])).toEqual({ accepted: true });
      expect(await slowStop).toMatchObject({ accepted: false, why: expect.stringContaining('expected stop') });
      const next = await until(
        () => env.client.workflow.getHandle(workflowId).query(statusQuery),
        (s) => s.generation === 2,
        'retrained',
      );
      expect(next.decisions.some((d) => d.kind === 'retrain' && d.actor === 'alice')).toBe(true);
      await env.client.workflow.getHandle(workflowId).terminate('test done');
    });
  }, 60_000);
});
