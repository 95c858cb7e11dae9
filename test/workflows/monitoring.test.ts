// modelMonitoring on its own: what it does when the lifecycle it reports to is gone. The
// monitor → retrain path with a live lifecycle is in lifecycle.test.ts.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundle } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSpec } from '../../domain/spec';
import { taskQueues } from '../../domain/temporal-names';
import type { MonitoringOutcome } from '../../workflows/monitoring';
import { timeSkippingEnv, workflowBundle } from './env';
import { fakeActivities } from './fake-activities';

const spec = parseSpec({ name: 'wf-monitor', labels: ['neg', 'pos'], data: { path: 'data.jsonl' }, roles: { auditors: ['alice'], deployers: ['bob'] } });

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundle;
beforeAll(async () => {
  [env, bundle] = await Promise.all([timeSkippingEnv(), workflowBundle()]);
});
afterAll(async () => {
  await env?.teardown();
});

async function monitorOnce(degraded: boolean, lifecycleWorkflowId: string) {
  const fakes = fakeActivities({ degraded });
  const control = await Worker.create({ connection: env.nativeConnection, taskQueue: taskQueues.control, workflowBundle: bundle, activities: fakes.control });
  const scoring = await Worker.create({ connection: env.nativeConnection, taskQueue: taskQueues.scoring, activities: fakes.scoring });
  const outcome = (await control.runUntil(
    scoring.runUntil(() =>
      env.client.workflow.execute('modelMonitoring', {
        taskQueue: taskQueues.control,
        workflowId: `monitor-${lifecycleWorkflowId}`,
        args: [{ model: spec.name, lifecycleWorkflowId, labels: spec.labels, monitoring: spec.monitoring }],
      }),
    ),
  )) as MonitoringOutcome;
  return { outcome, fakes };
}

describe('modelMonitoring', () => {
  it('pauses the Schedule, instead of failing every interval, when the lifecycle it would ask to retrain is gone', async () => {
    const { outcome, fakes } = await monitorOnce(true, 'mlc-stopped-long-ago');
    expect(outcome).toMatchObject({
      degraded: true,
      retrainRequested: false,
      schedulePaused: expect.stringContaining('mlc-stopped-long-ago is no longer running'),
    });
    expect(fakes.named('pauseMonitoringSchedule')).toEqual([{ model: spec.name, note: outcome.schedulePaused }]);
  });

  it('a healthy report signals no one, so a gone lifecycle does not matter', async () => {
    const { outcome, fakes } = await monitorOnce(false, 'mlc-also-gone');
    expect(outcome).toMatchObject({ degraded: false, retrainRequested: false });
    expect(outcome.schedulePaused).toBeUndefined();
    expect(fakes.named('pauseMonitoringSchedule')).toEqual([]);
  });
});
