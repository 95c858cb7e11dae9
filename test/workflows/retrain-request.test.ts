// mlc retrain: an auditor or deployer asks for the next generation while a version is live,
// without waiting for the monitor. The request is judged and recorded like the monitor's; the
// update gives the caller the verdict at once.
import { describe, expect, it } from 'vitest';
import type { LifecycleStatus } from '../../domain/lifecycle';
import { parseSpec } from '../../domain/spec';
import { retrainRequestUpdate, statusQuery } from '../../workflows/messages';
import { deployFirstVersion, lifecycleStarter, reach, until } from './drive';
import { timeSkippingSuite } from './env';
import { fakeActivities } from './fake-activities';

const spec = parseSpec({ name: 'retrainable', labels: ['neg', 'pos'], data: { path: 'd.jsonl' }, roles: { auditors: ['alice'], deployers: ['bob'] } });

const suite = timeSkippingSuite();
const start = lifecycleStarter(suite, 'retrain', spec);

describe('a retrain asked for by a person', () => {
  it('is refused before a version is live, by the update itself, naming the stage', async () => {
    await suite.withWorkers(fakeActivities(), async () => {
      const h = await start();
      await reach(h, 'awaiting_audit');
      const early = await h.executeUpdate(retrainRequestUpdate, { args: [{ actor: 'alice', reason: 'new labels' }] }).catch((e: Error) => e);
      expect((early as Error).cause).toMatchObject({
        message: 'retrains are requested only while monitoring; retrainable is awaiting_audit now (mlc status retrainable)',
      });
      await h.terminate('test over');
    });
  });

  it('is refused, and recorded, from someone who neither audits nor deploys the model; the version stays monitored', async () => {
    const fakes = fakeActivities();
    await suite.withWorkers(fakes, async () => {
      const h = await start();
      await deployFirstVersion(h);
      expect(await h.executeUpdate(retrainRequestUpdate, { args: [{ actor: 'mallory', reason: 'because' }] })).toEqual({
        accepted: false,
        why: 'mallory may not request a retrain of retrainable: only its auditors (alice) and deployers (bob) may',
      });
      const s: LifecycleStatus = await h.query(statusQuery);
      expect(s).toMatchObject({ stage: 'monitoring', generation: 1 });
      expect(s.lastDecision).toMatchObject({ kind: 'retrain', outcome: 'refused', actor: 'mallory' });
      expect(fakes.named('exportFeedbackData')).toEqual([]);
      await h.terminate('test over');
    });
  });

  it('from an auditor: recorded with their reason, monitoring paused, and generation 2 trains on the data plus the feedback', async () => {
    const fakes = fakeActivities();
    await suite.withWorkers(fakes, async () => {
      const h = await start();
      await deployFirstVersion(h);
      expect(await h.executeUpdate(retrainRequestUpdate, { args: [{ actor: 'alice', reason: '2,000 new labelled rows' }] })).toEqual({ accepted: true });
      const next = await until(h, (s) => s.generation === 2 && s.stage === 'awaiting_audit', 'reached generation 2');
      expect(next).toMatchObject({ deployedVersion: 1, version: 2 });
      expect(next.decisions.find((d) => d.kind === 'retrain')).toMatchObject({
        outcome: 'requested',
        actor: 'alice',
        reason: '2,000 new labelled rows',
        version: 1,
      });
      expect(fakes.named('pauseMonitoringSchedule')).toEqual([{ model: spec.name, note: 'retraining after: 2,000 new labelled rows' }]);
      expect(fakes.named('exportFeedbackData')).toEqual([expect.objectContaining({ model: spec.name, generation: 1 })]);
      expect(fakes.named('preprocessData')).toHaveLength(2);
      await h.terminate('test over');
    });
  });
});
