// A job the cluster ended (PREEMPTED, NODE_FAIL) is resubmitted into the same run folder under
// a submission key of its own, so train.py resumes from the dead job's checkpoints and the run
// stays one registry run and one model version; past training.maxInfraRetries the lifecycle
// fails naming the states and the bound.
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import type { SubmitInput } from '../../activities/training';
import { stateInfo } from '../../adapters/slurm/states';
import { parseSpec, type ModelSpec } from '../../domain/spec';
import { taskQueues } from '../../domain/temporal-names';
import { statusQuery } from '../../workflows/messages';
import { RESUBMIT_SAME_RUN_FOLDER } from '../../workflows/training';
import { reach } from './drive';
import { timeSkippingSuite } from './env';
import { fakeActivities } from './fake-activities';

const spec = parseSpec({
  name: 'wf-resubmit',
  labels: ['neg', 'pos'],
  data: { path: 'data.jsonl' },
  roles: { auditors: ['alice'], deployers: ['bob'] },
});

const suite = timeSkippingSuite();
let n = 0;

const run = <T>(fakes: ReturnType<typeof fakeActivities>, fn: () => Promise<T>): Promise<T> => suite.withWorkers(fakes, fn);

function start(withSpec: ModelSpec = spec): Promise<WorkflowHandle> {
  return suite.env.client.workflow.start('modelLifecycle', {
    taskQueue: taskQueues.control,
    workflowId: `resubmit-${++n}`,
    args: [{ spec: withSpec, specDir: '/tmp' }],
  });
}

async function patchMarkers(h: WorkflowHandle): Promise<string[]> {
  const { events } = await h.fetchHistory();
  return (events ?? []).flatMap((e) => {
    const a = e.markerRecordedEventAttributes;
    if (a?.markerName !== 'core_patch') return [];
    const payload = a.details?.['patch-data']?.payloads?.[0]?.data;
    return payload ? [(JSON.parse(Buffer.from(payload).toString('utf8')) as { id: string }).id] : [];
  });
}

describe('a job the cluster ended', () => {
  it.each(['PREEMPTED', 'NODE_FAIL'])('%s: resubmitted into the same run folder under its own key, registered once', async (state) => {
    const fakes = fakeActivities({ jobEnds: [state, 'COMPLETED'] });
    await run(fakes, async () => {
      const h = await start();
      const status = await reach(h, 'awaiting_audit');

      const submits = fakes.named('submitTrainingJob') as SubmitInput[];
      expect(submits).toHaveLength(2);
      const [first, second] = submits as [SubmitInput, SubmitInput];
      expect(first.runKey).toMatch(/-g1-a1$/);
      expect(first.resubmission).toBeUndefined();
      // The same run and folder (its checkpoints), but not the dead job's idempotency key.
      expect(second).toMatchObject({ runKey: first.runKey, runDir: first.runDir, configFile: first.configFile });
      expect(second.resubmission).toEqual({ key: `${first.runKey}-r1`, after: [{ jobId: '101', state, reason: stateInfo(state).hint }] });
      expect(fakes.jobs).toEqual([first.runKey, `${first.runKey}-r1`]);
      expect(fakes.named('prepareTrainingRun')).toHaveLength(1);
      // The resubmitted job is followed and registered under the one run.
      const watched = fakes.named('awaitJobChange') as { jobId: string; runKey: string; runDir: string }[];
      expect(new Set(watched.map((w) => w.jobId))).toEqual(new Set(['101', '102']));
      expect(watched.every((w) => w.runKey === first.runKey && w.runDir === first.runDir)).toBe(true);
      expect(fakes.named('registerTrainedModel')).toEqual([expect.objectContaining({ runKey: first.runKey, runDir: first.runDir })]);

      expect(status.version).toBe(1);
      expect(status.training).toMatchObject({
        runKey: first.runKey,
        runDir: first.runDir,
        jobId: '102',
        jobState: 'COMPLETED',
        resubmittedAfter: [{ jobId: '101', state }],
      });
      expect(await patchMarkers(h)).toContain(RESUBMIT_SAME_RUN_FOLDER);
      await h.terminate('test done');
    });
  });

  it('past training.maxInfraRetries, fails naming every state and the bound; nothing is registered', async () => {
    const fakes = fakeActivities({ jobEnds: ['PREEMPTED', 'NODE_FAIL', 'NODE_FAIL'] });
    await run(fakes, async () => {
      const h = await start();
      const err = await h.result().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      const message = ((err as WorkflowFailedError).cause as Error).message;
      expect(message).toContain('Training job 103 ended NODE_FAIL');
      expect(message).toContain('(101 PREEMPTED, 102 NODE_FAIL, 103 NODE_FAIL)');
      expect(message).toContain('resubmitted 2 time(s), the most training.maxInfraRetries (2) allows');
      expect(message).toContain('slurm-103.out');

      const submits = fakes.named('submitTrainingJob') as SubmitInput[];
      const runKey = submits[0]!.runKey;
      expect(submits.map((s) => s.resubmission?.key ?? s.runKey)).toEqual([runKey, `${runKey}-r1`, `${runKey}-r2`]);
      expect(new Set(submits.map((s) => s.runDir)).size).toBe(1);
      expect(submits[2]!.resubmission?.after.map((j) => j.state)).toEqual(['PREEMPTED', 'NODE_FAIL']);
      expect(fakes.named('registerTrainedModel')).toEqual([]);
      const last = await h.query(statusQuery);
      expect(last).toMatchObject({ stage: 'failed', error: expect.stringContaining('maxInfraRetries') });
      expect(last.training?.resubmittedAfter).toHaveLength(2);
    });
  });

  it('with training.maxInfraRetries 0, the first cluster failure is final', async () => {
    const fakes = fakeActivities({ jobEnds: ['NODE_FAIL'] });
    await run(fakes, async () => {
      const h = await start(parseSpec({ ...spec, training: { ...spec.training, maxInfraRetries: 0 } }));
      const err = await h.result().catch((e: unknown) => e);
      const message = ((err as WorkflowFailedError).cause as Error).message;
      expect(message).toContain('resubmitted 0 time(s), the most training.maxInfraRetries (0) allows');
      expect(fakes.named('submitTrainingJob')).toHaveLength(1);
      expect(await patchMarkers(h)).not.toContain(RESUBMIT_SAME_RUN_FOLDER);
    });
  });
});
