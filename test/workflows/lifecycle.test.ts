import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { artifactLayout } from '../../domain/artifact-layout';
import { messageOf } from '../../domain/errors';
import type { LifecycleStatus } from '../../domain/lifecycle';
import { parseSpec, type ModelSpec } from '../../domain/spec';
import { taskQueues } from '../../domain/temporal-names';
import { auditDecisionSignal, auditDecisionUpdate, deployRequestUpdate, rollbackRequestUpdate, statusQuery } from '../../workflows/messages';
import { deployFirstVersion, reach, until } from './drive';
import { timeSkippingSuite } from './env';
import { fakeActivities } from './fake-activities';

const spec = parseSpec({
  name: 'wf-test',
  labels: ['neg', 'pos'],
  data: { path: 'data.jsonl' },
  gates: [{ metric: 'macro_f1', min: 0.3 }],
  roles: { auditors: ['alice'], deployers: ['bob'] },
});

const suite = timeSkippingSuite();
let n = 0;

const run = <T>(fakes: ReturnType<typeof fakeActivities>, fn: () => Promise<T>): Promise<T> => suite.withWorkers(fakes, fn);

function start(withSpec = spec): Promise<WorkflowHandle> {
  return suite.env.client.workflow.start('modelLifecycle', {
    taskQueue: taskQueues.control,
    workflowId: `lifecycle-${++n}`,
    args: [{ spec: withSpec, specDir: '/tmp' }],
  });
}

const tick = () => new Promise((r) => setTimeout(r, 50));

/** v1 approved and deployed, then a degraded monitoring run: generation 2 waiting for its audit. */
async function retrainAfterDeploying(h: WorkflowHandle, withSpec: ModelSpec): Promise<LifecycleStatus> {
  await deployFirstVersion(h);
  await suite.env.client.workflow.execute('modelMonitoring', {
    taskQueue: taskQueues.control,
    workflowId: `monitor-${h.workflowId}`,
    args: [{ model: withSpec.name, lifecycleWorkflowId: h.workflowId, labels: withSpec.labels, monitoring: withSpec.monitoring }],
  });
  return reach(h, 'awaiting_audit', 2);
}

describe('modelLifecycle', () => {
  it('waits for an auditor, refuses decisions from anyone else, then waits for a deployer', async () => {
    const fakes = fakeActivities();
    await run(fakes, async () => {
      const h = await start();
      const audit = await reach(h, 'awaiting_audit');
      expect(audit.version).toBe(1);
      expect(audit.artifactSha256).toBe('sha-1');
      expect(audit.training).toMatchObject({ jobState: 'COMPLETED', jobPhase: 'succeeded' });

      const refused = await h.executeUpdate(auditDecisionUpdate, { args: [{ decision: 'approve', actor: 'mallory', reason: 'looks fine' }] });
      expect(refused).toEqual({ accepted: false, why: expect.stringContaining('mallory is not an auditor') });
      const wrongVersion = await h.executeUpdate(auditDecisionUpdate, { args: [{ decision: 'approve', actor: 'alice', reason: 'ok', version: 7 }] });
      expect(wrongVersion.accepted).toBe(false);
      expect((await h.query(statusQuery)).stage).toBe('awaiting_audit');

      expect(await h.executeUpdate(auditDecisionUpdate, { args: [{ decision: 'approve', actor: 'alice', reason: 'meets the bar', version: 1 }] })).toEqual({
        accepted: true,
      });
      await reach(h, 'awaiting_deploy');
      expect((await h.executeUpdate(deployRequestUpdate, { args: [{ actor: 'alice' }] })).accepted).toBe(false);
      expect((await h.executeUpdate(deployRequestUpdate, { args: [{ actor: 'bob', reason: 'release 1' }] })).accepted).toBe(true);
      const live = await reach(h, 'monitoring');
      expect(live.deployedVersion).toBe(1);

      expect(fakes.named('deployModelVersion')).toEqual([expect.objectContaining({ version: 1, auditedSha256: 'sha-1', actor: 'bob' })]);
      expect(fakes.named('ensureMonitoringSchedule')).toHaveLength(1);
      expect(fakes.decisions.map((d) => [d.kind, d.outcome, d.actor])).toEqual([
        ['audit', 'refused', 'mallory'],
        ['audit', 'refused', 'alice'],
        ['audit', 'approved', 'alice'],
        ['deploy', 'refused', 'alice'],
        ['deploy', 'approved', 'bob'],
      ]);
      expect(new Set(fakes.decisions.map((d) => d.decisionKey)).size).toBe(fakes.decisions.length);
      const desc = await h.describe();
      expect(desc.searchAttributes).toMatchObject({ MlcStage: ['monitoring'], MlcModel: ['wf-test'], MlcVersion: ['1'] });
      await h.terminate('test done');
    });
  });

  it('reject with changes trains again as the next attempt with the changed parameters', async () => {
    const fakes = fakeActivities();
    await run(fakes, async () => {
      const h = await start();
      await reach(h, 'awaiting_audit');
      await h.executeUpdate(auditDecisionUpdate, { args: [{ decision: 'reject', actor: 'alice', reason: 'q recall too low', paramsOverride: { epochs: 9 } }] });
      const second = await until(h, (s) => s.version === 2 && s.stage === 'awaiting_audit', 'offered version 2 for audit');
      expect(second.attempt).toBe(2);
      const runs = fakes.named('prepareTrainingRun') as { runKey: string; params: { epochs: number } }[];
      expect(runs.map((r) => r.params.epochs)).toEqual([3, 9]);
      expect(runs[1]!.runKey).toMatch(/-g1-a2$/);
      expect(fakes.decisions.at(-1)).toMatchObject({ kind: 'audit', outcome: 'rejected', reason: 'q recall too low' });
      await h.terminate('test done');
    });
  });

  it('a version that failed its gates cannot be approved, only rejected', async () => {
    const fakes = fakeActivities({ gatesPassed: [false, true] });
    await run(fakes, async () => {
      const h = await start();
      await reach(h, 'awaiting_audit');
      const verdict = await h.executeUpdate(auditDecisionUpdate, { args: [{ decision: 'approve', actor: 'alice', reason: 'ship it' }] });
      expect(verdict).toEqual({ accepted: false, why: expect.stringContaining('failed its metric gates') });
      await h.terminate('test done');
    });
  });

  it('records an invalid signal from the CLI or Web UI as refused and keeps waiting', async () => {
    const fakes = fakeActivities();
    await run(fakes, async () => {
      const h = await start();
      await reach(h, 'awaiting_audit');
      await h.signal(auditDecisionSignal, { decision: 'approve', actor: 'alice' } as never);
      await h.signal(auditDecisionSignal, { decision: 'approve', actor: 'alice', reason: 'fine' });
      await reach(h, 'awaiting_deploy');
      expect(fakes.decisions[0]).toMatchObject({ outcome: 'refused', actor: 'alice', reason: expect.stringContaining('reason') });
      expect(fakes.decisions[1]).toMatchObject({ outcome: 'approved' });
      await h.terminate('test done');
    });
  });

  it('resubmits after a node failure, and fails with the log tail on a job error', async () => {
    const fakes = fakeActivities({ jobEnds: ['NODE_FAIL', 'OUT_OF_MEMORY'] });
    await run(fakes, async () => {
      const h = await start();
      const err = await h.result().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      const cause = (err as WorkflowFailedError).cause as Error;
      expect(cause.message).toContain('OUT_OF_MEMORY');
      expect(cause.message).toContain('Traceback: scripted failure');
      expect(fakes.jobs).toEqual([expect.stringMatching(/-g1-a1$/), expect.stringMatching(/-g1-a1-r1$/)]);
      const last = await h.query(statusQuery);
      expect(last).toMatchObject({ stage: 'failed', error: expect.stringContaining('OUT_OF_MEMORY') });
      expect((await h.describe()).searchAttributes).toMatchObject({ MlcStage: ['failed'] });
    });
  });

  it('a search runs as one job array and evaluates the best trial', async () => {
    const fakes = fakeActivities();
    const searching = {
      ...spec,
      training: { ...spec.training, search: { trials: 4, concurrency: 2, space: { learningRate: [0.001, 0.0005], epochs: [2, 3] } } },
    };
    await run(fakes, async () => {
      const h = await start(searching);
      await reach(h, 'awaiting_audit');
      expect(fakes.named('submitTrainingJob')).toEqual([
        expect.objectContaining({ trials: { count: 4, concurrency: 2 }, trialsFile: expect.stringMatching(/trials\.json$/) }),
      ]);
      expect(fakes.named('registerTrainedModel')).toEqual([expect.objectContaining({ trials: 4 })]);
      expect(fakes.named('evaluateModel')).toEqual([expect.objectContaining({ runDir: expect.stringMatching(/\/trial-1$/) })]);
      await h.terminate('test done');
    });
  });

  it('refuses an audit update while training, and records an early audit signal as stale', async () => {
    const fakes = fakeActivities();
    await run(fakes, async () => {
      const h = await suite.env.client.workflow.signalWithStart('modelLifecycle', {
        taskQueue: taskQueues.control,
        workflowId: `lifecycle-${++n}`,
        args: [{ spec, specDir: '/tmp' }],
        signal: auditDecisionSignal,
        signalArgs: [{ decision: 'approve', actor: 'alice', reason: 'approved before seeing it' }],
      });
      await reach(h, 'awaiting_audit');
      expect(fakes.decisions[0]).toMatchObject({
        kind: 'audit',
        outcome: 'refused',
        actor: 'alice',
        reason: expect.stringContaining('before version 1 was ready'),
      });
      expect((await h.query(statusQuery)).stage).toBe('awaiting_audit');
      const early = await h.executeUpdate(deployRequestUpdate, { args: [{ actor: 'bob' }] }).catch((e: Error) => e);
      expect(messageOf((early as Error).cause ?? early)).toMatch(/deployments are requested only while awaiting_deploy; wf-test is awaiting_audit/);
      await h.terminate('test done');
    });
  });

  it("a lifecycle started again under the same id never reuses the earlier one's runs or records", async () => {
    const fakes = fakeActivities();
    await run(fakes, async () => {
      const workflowId = `lifecycle-again-${++n}`;
      for (let i = 0; i < 2; i++) {
        const h = await suite.env.client.workflow.start('modelLifecycle', { taskQueue: taskQueues.control, workflowId, args: [{ spec, specDir: '/tmp' }] });
        await reach(h, 'awaiting_audit');
        await h.executeUpdate(auditDecisionUpdate, { args: [{ decision: 'approve', actor: 'alice', reason: 'ok' }] });
        await reach(h, 'awaiting_deploy');
        await h.terminate('start again');
      }
      const runKeys = (fakes.named('prepareTrainingRun') as { runKey: string }[]).map((r) => r.runKey);
      expect(runKeys).toHaveLength(2);
      expect(runKeys[0]).not.toBe(runKeys[1]);
      expect(runKeys.every((k) => k.startsWith(`${workflowId}-`) && k.endsWith('-g1-a1'))).toBe(true);
      expect(new Set(fakes.decisions.map((d) => d.decisionKey)).size).toBe(2);
    });
  });

  it('refuses rollbacks by non-deployers, to the live version, or to a version never approved', async () => {
    const fakes = fakeActivities();
    await run(fakes, async () => {
      const h = await start();
      await reach(h, 'awaiting_audit');
      await h.executeUpdate(auditDecisionUpdate, { args: [{ decision: 'reject', actor: 'alice', reason: 'try again' }] });
      await until(h, (s) => s.version === 2 && s.stage === 'awaiting_audit', 'offered version 2 for audit');
      await h.executeUpdate(auditDecisionUpdate, { args: [{ decision: 'approve', actor: 'alice', reason: 'v2 is good' }] });
      await h.executeUpdate(deployRequestUpdate, { args: [{ actor: 'bob' }] });
      await reach(h, 'monitoring');
      const rollback = (actor: string, version: number) =>
        h.executeUpdate(rollbackRequestUpdate, { args: [{ actor, version, reason: 'v2 misroutes questions' }] });
      expect(await rollback('alice', 2)).toMatchObject({ accepted: false, why: expect.stringContaining('not a deployer') });
      expect(await rollback('bob', 2)).toMatchObject({ accepted: false, why: expect.stringContaining('already live') });
      expect(await rollback('bob', 1)).toMatchObject({ accepted: false, why: expect.stringContaining('never approved') });
      expect(fakes.named('deployModelVersion')).toHaveLength(1);
      expect(fakes.decisions.filter((d) => d.kind === 'rollback').map((d) => d.outcome)).toEqual(['refused', 'refused', 'refused']);
      await h.terminate('test done');
    });
  });

  it('a deployer rolls back to a version approved in an earlier generation, shipping exactly its approved bytes', async () => {
    const fakes = fakeActivities({ degraded: true });
    await run(fakes, async () => {
      const h = await start();
      await retrainAfterDeploying(h, spec);
      await h.executeUpdate(auditDecisionUpdate, { args: [{ decision: 'approve', actor: 'alice', reason: 'v2 ok' }] });
      await h.executeUpdate(deployRequestUpdate, { args: [{ actor: 'bob' }] });
      await reach(h, 'monitoring', 2);
      expect(await h.executeUpdate(rollbackRequestUpdate, { args: [{ actor: 'bob', version: 1, reason: 'v2 misroutes questions' }] })).toEqual({
        accepted: true,
      });
      const s = await until(h, (x) => x.deployedVersion === 1 && x.stage === 'monitoring', 'rolled back to version 1');
      expect(s.generation).toBe(2);
      expect(fakes.named('deployModelVersion').at(-1)).toMatchObject({ version: 1, auditedSha256: 'sha-1', actor: 'bob' });
      expect(fakes.decisions.at(-1)).toMatchObject({ kind: 'rollback', outcome: 'approved', version: 1, artifactSha256: 'sha-1' });
      await h.terminate('test done');
    });
  });

  it('a retrain with training.retrain.from: champion starts from the deployed version with its own params; generation 1 from scratch', async () => {
    const warmSpec = parseSpec({ ...spec, training: { ...spec.training, retrain: { from: 'champion', params: { epochs: 1, learningRate: 0.0002 } } } });
    const fakes = fakeActivities({ degraded: true });
    await run(fakes, async () => {
      const h = await start(warmSpec);
      const second = await retrainAfterDeploying(h, warmSpec);
      expect(second.training?.warmStartFrom).toBe(1); // what mlc status shows
      const [first, retrain] = fakes.named('prepareTrainingRun') as { initFromVersion?: number; params: { epochs: number; learningRate: number } }[];
      expect(first!.initFromVersion).toBeUndefined();
      expect(first!.params).toMatchObject({ epochs: warmSpec.training.params.epochs, learningRate: warmSpec.training.params.learningRate });
      expect(retrain).toMatchObject({ initFromVersion: 1, params: { epochs: 1, learningRate: 0.0002, maxLength: warmSpec.training.params.maxLength } });
      await h.terminate('test done');
    });
  });

  it('rolls a version out to Azure ML step by step, restores traffic when a step fails, and retries on the next deploy request', async () => {
    const azureSpec = parseSpec({ ...spec, deployment: { target: 'azureml', workspace: 'prod', endpoint: 'wf-endpoint', rollout: [10, 50, 100] } });
    const script = { degraded: true, failRolloutAt: [] as number[] };
    const fakes = fakeActivities(script);
    await run(fakes, async () => {
      const h = await start(azureSpec);
      await reach(h, 'awaiting_audit');
      await h.executeUpdate(auditDecisionUpdate, { args: [{ decision: 'approve', actor: 'alice', reason: 'v1 ok' }] });
      await h.executeUpdate(deployRequestUpdate, { args: [{ actor: 'bob' }] });
      await reach(h, 'monitoring');
      // Nothing live yet: v1 takes all traffic in one step.
      expect(fakes.named('setAzureMlTraffic').map((c) => (c as { traffic: unknown }).traffic)).toEqual([{ 'version-1': 100 }]);
      expect(fakes.named('ensureMonitoringSchedule').at(-1)).toMatchObject({ deployment: { target: 'azureml', endpoint: 'wf-endpoint' } });

      await suite.env.client.workflow.execute('modelMonitoring', {
        taskQueue: taskQueues.control,
        workflowId: `monitor-az-${n}`,
        args: [
          {
            model: azureSpec.name,
            lifecycleWorkflowId: h.workflowId,
            labels: azureSpec.labels,
            monitoring: azureSpec.monitoring,
            deployment: azureSpec.deployment,
          },
        ],
      });
      expect(fakes.named('computeMonitoringReport').at(-1)).toMatchObject({ deployment: { target: 'azureml' } });
      await reach(h, 'awaiting_audit', 2);
      await h.executeUpdate(auditDecisionUpdate, { args: [{ decision: 'approve', actor: 'alice', reason: 'v2 ok' }] });
      script.failRolloutAt.push(50);
      await h.executeUpdate(deployRequestUpdate, { args: [{ actor: 'bob', reason: 'first try' }] });
      const failed = await until(h, (s) => s.stage === 'awaiting_deploy' && s.lastDecision?.outcome === 'failed', 'reported the failed rollout');
      expect(failed.lastDecision!.reason).toMatch(/rollout step 50% failed.*Traffic is back to \{"version-1":100\}/s);
      expect(
        fakes
          .named('setAzureMlTraffic')
          .slice(1)
          .map((c) => (c as { traffic: unknown }).traffic),
      ).toEqual([{ 'version-1': 90, 'version-2': 10 }, { 'version-1': 50, 'version-2': 50 }, { 'version-1': 100 }]);
      expect(fakes.named('recordAzureMlDeployment')).toHaveLength(1);

      script.failRolloutAt.length = 0;
      await h.executeUpdate(deployRequestUpdate, { args: [{ actor: 'bob', reason: 'second try' }] });
      const live = await reach(h, 'monitoring', 2);
      expect(live.deployedVersion).toBe(2);
      expect(
        fakes
          .named('setAzureMlTraffic')
          .slice(4)
          .map((c) => (c as { traffic: unknown }).traffic),
      ).toEqual([
        { 'version-1': 90, 'version-2': 10 },
        { 'version-1': 50, 'version-2': 50 },
        { 'version-1': 0, 'version-2': 100 },
      ]);

      expect(await h.executeUpdate(rollbackRequestUpdate, { args: [{ actor: 'bob', version: 1, reason: 'v2 misroutes questions' }] })).toEqual({
        accepted: true,
      });
      const back = await until(h, (x) => x.deployedVersion === 1 && x.stage === 'monitoring', 'rolled back to version 1');
      expect(fakes.named('setAzureMlTraffic').at(-1)).toMatchObject({ traffic: { 'version-1': 100, 'version-2': 0 } });
      expect(fakes.named('prepareAzureMlRelease').at(-1)).toMatchObject({ version: 1, auditedSha256: 'sha-1' });
      expect(back.decisions.map((d) => `${d.kind}:${d.outcome}`)).toEqual([
        'audit:approved',
        'deploy:approved',
        'retrain:requested',
        'audit:approved',
        'deploy:failed',
        'deploy:approved',
        'rollback:approved',
      ]);
      expect(new Set(fakes.decisions.map((d) => d.decisionKey)).size).toBe(fakes.decisions.length);
      await h.terminate('test done');
    });
  });

  it('validates a spec started by hand (temporal workflow start): defaults filled in, a bad field fails at once by name', async () => {
    const fakes = fakeActivities();
    await run(fakes, async () => {
      // What a person writes in start.json: no defaults.
      const raw = { name: 'wf-raw', labels: ['neg', 'pos'], data: { path: 'data.jsonl' }, roles: { auditors: ['alice'], deployers: ['bob'] } };
      const h = await suite.env.client.workflow.start('modelLifecycle', {
        taskQueue: taskQueues.control,
        workflowId: `lifecycle-raw-${++n}`,
        args: [{ spec: raw, specDir: '/tmp' }],
      });
      await reach(h, 'awaiting_audit');
      expect(fakes.named('prepareTrainingRun')[0]).toMatchObject({ params: { epochs: 3, maxLength: 64 } });
      expect(fakes.named('submitTrainingJob')[0]).toMatchObject({ profile: { checkpointSignalSeconds: 120, timeLimit: '01:00:00' } });
      await h.terminate('test done');

      const bad = await suite.env.client.workflow.start('modelLifecycle', {
        taskQueue: taskQueues.control,
        workflowId: `lifecycle-bad-${++n}`,
        args: [{ spec: { ...raw, labels: ['only'] }, specDir: '/tmp' }],
      });
      const err = await bad.result().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      expect(String((err as WorkflowFailedError).cause?.message)).toMatch(/Invalid model spec in the workflow input:\n\s+- labels: /);
      expect(fakes.named('preprocessData')).toHaveLength(1);
    });
  });

  it('a failed stage shows its root cause in status, not "Activity task failed"', async () => {
    const why = 'No usable rows: all 9 input rows were quarantined; quarantine.jsonl lists every row with its reason';
    const fakes = fakeActivities({ preprocessFails: why });
    await run(fakes, async () => {
      const h = await start();
      await expect(h.result()).rejects.toBeInstanceOf(WorkflowFailedError);
      const s = await h.query(statusQuery);
      expect(s).toMatchObject({ stage: 'failed', error: why });
      expect((await h.describe()).searchAttributes).toMatchObject({ MlcStage: ['failed'] });
    });
  });

  it('cancelling the lifecycle cancels the SLURM job', async () => {
    const fakes = fakeActivities({ jobEnds: ['HANG'] });
    await run(fakes, async () => {
      const h = await start();
      for (let i = 0; i < 200 && fakes.named('awaitJobChange').length < 2; i++) await tick();
      await h.cancel();
      await expect(h.result()).rejects.toThrow();
      expect(fakes.named('cancelTrainingJob')).toEqual([expect.objectContaining({ jobId: '101' })]);
      // Nothing was deployed, so there is no monitoring to pause; the stage says what happened.
      expect(fakes.named('pauseMonitoringSchedule')).toEqual([]);
      expect(await h.query(statusQuery)).toMatchObject({ stage: 'cancelled', error: null });
      expect((await h.describe()).searchAttributes).toMatchObject({ MlcStage: ['cancelled'] });
    });
  });

  it('cancelling a monitored lifecycle pauses its monitoring Schedule and leaves the version deployed', async () => {
    const fakes = fakeActivities({});
    await run(fakes, async () => {
      const h = await start();
      await deployFirstVersion(h);
      await h.cancel();
      await expect(h.result()).rejects.toThrow(WorkflowFailedError);
      const note = `lifecycle ${h.workflowId} was cancelled while monitoring; version 1 stays deployed, its monitoring paused until a new lifecycle deploys`;
      expect(fakes.named('pauseMonitoringSchedule')).toEqual([{ model: spec.name, note }]);
      expect(await h.query(statusQuery)).toMatchObject({ stage: 'cancelled', deployedVersion: 1 });
      expect((await h.describe()).status.name).toBe('CANCELLED');
    });
  });

  it('the monitor asks for a retrain; the lifecycle continues as the next generation with the feedback data', async () => {
    const fakes = fakeActivities({ degraded: true });
    await run(fakes, async () => {
      const h = await start();
      await deployFirstVersion(h);
      const outcome = await suite.env.client.workflow.execute('modelMonitoring', {
        taskQueue: taskQueues.control,
        workflowId: `monitor-${n}`,
        args: [{ model: spec.name, lifecycleWorkflowId: h.workflowId, labels: spec.labels, monitoring: spec.monitoring }],
      });
      expect(outcome).toMatchObject({ degraded: true, retrainRequested: true });
      const next = await reach(h, 'awaiting_audit', 2);
      expect(next.decisions.map((d) => `${d.kind}:${d.outcome}`)).toEqual(['audit:approved', 'deploy:approved', 'retrain:requested']);
      expect(next.deployedVersion).toBe(1);
      const gen2 = (fakes.named('preprocessData') as { generation: number; extraDataKeys: string[] }[])[1]!;
      expect(gen2).toMatchObject({ generation: 2, extraDataKeys: [artifactLayout.feedback(spec.name, 1)] });
      expect(fakes.named('pauseMonitoringSchedule')).toHaveLength(1);
      await h.terminate('test done');
    });
  });
});
