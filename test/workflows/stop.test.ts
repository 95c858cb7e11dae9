// mlc stop: an auditor or deployer ends a lifecycle, with the decision on record (signed where
// the spec requires it). A running job is cancelled on the cluster, the monitoring Schedule is
// paused, the deployed version stays deployed, and the workflow completes at stage "stopped".
// Signed stops: test/workflows/signed-decisions.test.ts (this file's hanging job skips the
// time-skipping server's clock past a statement's expiry).
import type { WorkflowHandle } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import type { LifecycleStatus, StopRequest } from '../../domain/lifecycle';
import { parseSpec } from '../../domain/spec';
import { auditDecisionUpdate, deployRequestUpdate, retrainRequestSignal, statusQuery, stopRequestSignal, stopRequestUpdate } from '../../workflows/messages';
import { deployFirstVersion, lifecycleStarter, reach } from './drive';
import { timeSkippingSuite } from './env';
import { fakeActivities } from './fake-activities';

const roles = { auditors: ['alice'], deployers: ['bob'] };
const spec = parseSpec({ name: 'stoppable', labels: ['neg', 'pos'], data: { path: 'd.jsonl' }, roles });

const suite = timeSkippingSuite();
const run = <T>(fakes: ReturnType<typeof fakeActivities>, fn: () => Promise<T>): Promise<T> => suite.withWorkers(fakes, fn);
const start = lifecycleStarter(suite, 'stop', spec);

const stop = (h: WorkflowHandle, r: StopRequest) => h.executeUpdate(stopRequestUpdate, { args: [r] });

describe('stopping a lifecycle', () => {
  it('is refused (and recorded) from anyone but an auditor or deployer; the lifecycle goes on', async () => {
    const fakes = fakeActivities();
    await run(fakes, async () => {
      const h = await start();
      await reach(h, 'awaiting_audit');
      expect(await stop(h, { actor: 'mallory', reason: 'enough' })).toEqual({
        accepted: false,
        why: 'mallory may not stop stoppable: only its auditors (alice) and deployers (bob) may',
      });
      const s = await h.query(statusQuery);
      expect(s.stage).toBe('awaiting_audit');
      expect(s.lastDecision).toMatchObject({ kind: 'stop', outcome: 'refused', actor: 'mallory' });
      expect((await h.describe()).status.name).toBe('RUNNING');
      await h.terminate('test over');
    });
  });

  it('while awaiting audit: recorded, nothing to pause, the workflow completes at "stopped"', async () => {
    const fakes = fakeActivities();
    await run(fakes, async () => {
      const h = await start();
      await reach(h, 'awaiting_audit');
      expect(await stop(h, { actor: 'alice', reason: 'the data owner withdrew consent' })).toEqual({ accepted: true });
      const result: LifecycleStatus = await h.result();
      expect(result).toMatchObject({ stage: 'stopped', version: 1, deployedVersion: null });
      expect(result.lastDecision).toMatchObject({ kind: 'stop', outcome: 'approved', actor: 'alice', reason: 'the data owner withdrew consent', version: 1 });
      expect(fakes.named('recordDecision').at(-1)).toMatchObject({
        kind: 'stop',
        outcome: 'approved',
        actor: 'alice',
        decisionKey: expect.stringMatching(/\/g1\/stop-1$/),
      });
      expect(fakes.named('pauseMonitoringSchedule')).toEqual([]);
      const described = await h.describe();
      expect(described.status.name).toBe('COMPLETED');
      expect(described.searchAttributes).toMatchObject({ MlcStage: ['stopped'] });
    });
  });

  it('while training: the job is cancelled on the cluster', async () => {
    const fakes = fakeActivities({ jobEnds: ['HANG'] });
    await run(fakes, async () => {
      const h = await start();
      for (let i = 0; i < 200 && fakes.named('awaitJobChange').length < 2; i++) await new Promise((r) => setTimeout(r, 50));
      // As a signal, the way `temporal workflow signal` and the Web UI send it.
      await h.signal(stopRequestSignal, { actor: 'bob', reason: 'wrong data file' });
      expect(await h.result()).toMatchObject({ stage: 'stopped' });
      expect(fakes.named('cancelTrainingJob')).toEqual([expect.objectContaining({ jobId: '101' })]);
    });
  });

  it('a stop still being recorded when a retrain request would continue as new: the lifecycle stops, in generation 1', async () => {
    // Recording the stop takes long enough for the retrain to reach its continue-as-new.
    const fakes = fakeActivities({ slowRecord: { kind: 'stop', ms: 1500 } });
    await run(fakes, async () => {
      const h = await start();
      await deployFirstVersion(h);
      await h.signal(stopRequestSignal, { actor: 'bob', reason: 'retired' });
      await h.signal(retrainRequestSignal, { actor: 'alice', reason: 'drifted' });
      const result: LifecycleStatus = await h.result();
      expect(result).toMatchObject({ stage: 'stopped', generation: 1 });
      expect(result.decisions.map((d) => `${d.kind}:${d.outcome}`)).toEqual(['audit:approved', 'deploy:approved', 'retrain:requested', 'stop:approved']);
      expect(fakes.named('preprocessData')).toHaveLength(1); // no generation 2
    });
  });

  it('while deploying: the rollout ends first, then the stop is recorded and the lifecycle stops', async () => {
    const fakes = fakeActivities({ slowDeployMs: 1500 });
    await run(fakes, async () => {
      const h = await start();
      await reach(h, 'awaiting_audit');
      await h.executeUpdate(auditDecisionUpdate, { args: [{ decision: 'approve', actor: 'alice', reason: 'ok' }] });
      await h.executeUpdate(deployRequestUpdate, { args: [{ actor: 'bob' }] });
      await reach(h, 'deploying');
      expect(await stop(h, { actor: 'alice', reason: 'pulled before launch' })).toEqual({ accepted: true });
      const result: LifecycleStatus = await h.result();
      expect(result).toMatchObject({ stage: 'stopped', deployedVersion: 1 });
      // In the order they happened: the deployment completed, then the stop took effect.
      expect(result.decisions.map((d) => `${d.kind}:${d.outcome}`)).toEqual(['audit:approved', 'deploy:approved', 'stop:approved']);
      expect(fakes.named('deployModelVersion')).toHaveLength(1);
      expect(fakes.named('pauseMonitoringSchedule')).toEqual([
        {
          model: spec.name,
          note: 'stopped by alice while monitoring: pulled before launch; version 1 stays deployed, its monitoring paused until a new lifecycle deploys',
        },
      ]);
    });
  });

  it('with --undeploy, from a deployer: the version is taken off the endpoint on the record, then the lifecycle stops', async () => {
    const fakes = fakeActivities();
    await run(fakes, async () => {
      const h = await start();
      await deployFirstVersion(h);
      expect(await stop(h, { actor: 'alice', reason: 'retired', undeploy: true })).toEqual({
        accepted: false,
        why: 'alice may stop stoppable but not take its version off the endpoint: only its deployers (bob) may (or stop it without --undeploy)',
      });
      expect(await stop(h, { actor: 'bob', reason: 'the product is retired', undeploy: true })).toEqual({ accepted: true });
      const result: LifecycleStatus = await h.result();
      expect(result).toMatchObject({ stage: 'stopped', deployedVersion: null });
      expect(result.decisions.slice(-2)).toMatchObject([
        { kind: 'stop', outcome: 'approved', actor: 'bob', version: 1 },
        { kind: 'undeploy', outcome: 'approved', actor: 'bob', reason: 'the product is retired', version: 1 },
      ]);
      expect(fakes.named('retireDeployment')).toEqual([
        { model: spec.name, actor: 'bob', reason: 'the product is retired', retireKey: expect.stringMatching(/^stop-\d+-[0-9a-f]+\/g1\/undeploy-2$/) },
      ]);
      expect(fakes.named('retireAzureMlDeployments')).toEqual([]); // the built-in endpoint
      const note = 'stopped by bob while monitoring: the product is retired; version 1 taken off the endpoint, its monitoring paused';
      expect(fakes.named('pauseMonitoringSchedule')).toEqual([{ model: spec.name, note }]);
    });
  });

  it('with --undeploy on Azure ML: the deployments go before the registry says the version is off', async () => {
    const fakes = fakeActivities();
    const azureSpec = parseSpec({ ...spec, deployment: { target: 'azureml', workspace: 'prod', endpoint: 'x-endpoint' } });
    await run(fakes, async () => {
      const h = await start(azureSpec);
      await deployFirstVersion(h);
      expect(await stop(h, { actor: 'bob', reason: 'retired', undeploy: true })).toEqual({ accepted: true });
      expect(await h.result()).toMatchObject({ stage: 'stopped', deployedVersion: null });
      const order = fakes.calls.map((c) => c.name).filter((n) => n.startsWith('retire'));
      expect(order).toEqual(['retireAzureMlDeployments', 'retireDeployment']);
    });
  });

  it('with --undeploy that cannot be done: recorded as failed with the reason, the version stays deployed, the lifecycle still stops', async () => {
    const fakes = fakeActivities({ retireFails: 'the registry is read-only' });
    await run(fakes, async () => {
      const h = await start();
      await deployFirstVersion(h);
      expect(await stop(h, { actor: 'bob', reason: 'retired', undeploy: true })).toEqual({ accepted: true });
      const result: LifecycleStatus = await h.result();
      expect(result).toMatchObject({ stage: 'stopped', deployedVersion: 1 });
      expect(result.lastDecision).toMatchObject({ kind: 'undeploy', outcome: 'failed', reason: 'RegistryUnavailable: the registry is read-only', version: 1 });
      expect(fakes.named('pauseMonitoringSchedule')).toEqual([
        { model: spec.name, note: 'stopped by bob while monitoring: retired; version 1 stays deployed, its monitoring paused until a new lifecycle deploys' },
      ]);
    });
  });

  it('while monitoring: the Schedule is paused, the version stays deployed', async () => {
    const fakes = fakeActivities();
    await run(fakes, async () => {
      const h = await start();
      await deployFirstVersion(h);
      expect(await stop(h, { actor: 'bob', reason: 'the product is retired' })).toEqual({ accepted: true });
      expect(await h.result()).toMatchObject({ stage: 'stopped', deployedVersion: 1 });
      const note = 'stopped by bob while monitoring: the product is retired; version 1 stays deployed, its monitoring paused until a new lifecycle deploys';
      expect(fakes.named('pauseMonitoringSchedule')).toEqual([{ model: spec.name, note }]);
    });
  });
});
