// modelMonitoring on its own: what it does when the lifecycle it reports to is gone, and what it
// passes on from the report (the decision is the activity's: it reads past windows from the
// registry). The monitor → retrain → next generation path is in lifecycle.test.ts.
import { describe, expect, it } from 'vitest';
import type { MonitoringReportResult } from '../../activities/monitoring';
import type { LifecycleStatus } from '../../domain/lifecycle';
import { parseSpec } from '../../domain/spec';
import { taskQueues } from '../../domain/temporal-names';
import { statusQuery } from '../../workflows/messages';
import type { MonitoringOutcome } from '../../workflows/monitoring';
import { deployFirstVersion, until } from './drive';
import { timeSkippingSuite } from './env';
import { fakeActivities } from './fake-activities';

const spec = parseSpec({ name: 'wf-monitor', labels: ['neg', 'pos'], data: { path: 'data.jsonl' }, roles: { auditors: ['alice'], deployers: ['bob'] } });

const suite = timeSkippingSuite();

async function monitorOnce(degraded: boolean, lifecycleWorkflowId: string) {
  const fakes = fakeActivities({ degraded });
  const outcome = (await suite.withWorkers(fakes, () =>
    suite.env.client.workflow.execute('modelMonitoring', {
      taskQueue: taskQueues.control,
      workflowId: `monitor-${lifecycleWorkflowId}`,
      args: [{ model: spec.name, lifecycleWorkflowId, labels: spec.labels, monitoring: spec.monitoring }],
    }),
  )) as MonitoringOutcome;
  return { outcome, fakes };
}

// First: the live lifecycle's signed retrain request expires in wall-clock time, and the
// time-skipping server moves the workflows' clock years ahead in the tests below.
describe('modelMonitoring with a live lifecycle', () => {
  /** A lifecycle deployed and monitoring, and one monitoring run whose report is scripted. */
  async function monitorLive(report: Partial<MonitoringReportResult>, id: string) {
    const fakes = fakeActivities({ monitoringReport: report });
    return suite.withWorkers(fakes, async () => {
      const h = await suite.env.client.workflow.start('modelLifecycle', { taskQueue: taskQueues.control, workflowId: id, args: [{ spec, specDir: '/tmp' }] });
      await deployFirstVersion(h);
      const outcome = (await suite.env.client.workflow.execute('modelMonitoring', {
        taskQueue: taskQueues.control,
        workflowId: `monitor-${id}`,
        args: [{ model: spec.name, lifecycleWorkflowId: id, labels: spec.labels, monitoring: spec.monitoring }],
      })) as MonitoringOutcome;
      const after: LifecycleStatus = outcome.retrainRequested ? await until(h, (s) => s.generation === 2, 'reached generation 2') : await h.query(statusQuery);
      await h.terminate('test done');
      return { outcome, after, fakes };
    });
  }

  it('a falling estimate with no labels at all asks for a retrain, with the report’s reasons as the retrain’s reason', async () => {
    const reasons = [
      "2 consecutive windows breached (the spec's monitoring.consecutive is 2): retraining",
      'estimated accuracy (CBPE, isotonic calibration) 41.0% [38.2% – 43.8%], estimated macro-F1 35.0%: the whole 95% band is below 71.0%, with no labels needed.',
    ];
    const { outcome, after, fakes } = await monitorLive(
      { degraded: true, breached: true, reasons, feedback: 0, feedbackAccuracy: null, estimatedAccuracy: 0.41, psi: 0.02, driftedFeatures: [] },
      'mlc-cbpe-live',
    );
    expect(outcome).toMatchObject({ degraded: true, retrainRequested: true, reasons });
    const retrain = after.decisions.find((d) => d.kind === 'retrain')!;
    expect(retrain).toMatchObject({ outcome: 'requested', actor: 'mlc-monitor' });
    // One line: each reason's own full stop goes, so none reads "… needed.; …".
    expect(retrain.reason).toBe(`${reasons[0]}; ${reasons[1]!.slice(0, -1)}`);
    expect(fakes.named('computeMonitoringReport')).toHaveLength(1);
  });

  it('a window that breached but is not yet the spec’s consecutive one signals nothing', async () => {
    const reasons = [
      'input "text length" (chars) drifted: …',
      '1 of 2 consecutive breached windows needed before retraining (monitoring.consecutive); the next run decides',
    ];
    const { outcome, after, fakes } = await monitorLive({ degraded: false, breached: true, reasons }, 'mlc-first-breach');
    expect(outcome).toMatchObject({ degraded: false, retrainRequested: false, reasons });
    expect(after).toMatchObject({ stage: 'monitoring', generation: 1 });
    expect(after.decisions.some((d) => d.kind === 'retrain')).toBe(false);
    expect(fakes.named('exportFeedbackData')).toEqual([]);
  });
});

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
