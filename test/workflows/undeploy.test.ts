// mlc undeploy: a deployer takes a model's live version off its endpoint after its lifecycle
// has ended (stopped without --undeploy, or its --undeploy failed). Who may, and where the
// version runs, come from the registry; the decision is judged, signed where the spec requires
// it, and recorded; a running lifecycle is left to do it itself.
import { ApplicationFailure, type WorkflowFailedError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import type { UndeployTarget } from '../../activities/deploy';
import { deploymentTarget, parseSpec } from '../../domain/spec';
import { taskQueues, undeployWorkflowId } from '../../domain/temporal-names';
import type { UndeployRequest, UndeployResult } from '../../workflows/undeploy';
import { timeSkippingSuite } from './env';
import { fakeActivities, type Script } from './fake-activities';
import { fakeSigning } from './fake-signing';

const roles = { auditors: ['alice'], deployers: ['bob'] };
const spec = parseSpec({ name: 'retiring', labels: ['neg', 'pos'], data: { path: 'd.jsonl' }, roles });
const signedSpec = parseSpec({ name: 'retiring', labels: ['neg', 'pos'], data: { path: 'd.jsonl' }, roles: { ...roles, signatures: 'required' } });
const live = { version: 3, target: 'local', artifactSha256: 'sha-3' };
const ended: UndeployTarget = { spec, live, runningLifecycle: null };
const azureSpec = parseSpec({ ...spec, deployment: { target: 'azureml', workspace: 'prod', endpoint: 'retiring-ep' } });

const suite = timeSkippingSuite();
const signing = fakeSigning();
let requests = 0;
/** Runs one undeploy workflow on `script`'s fakes; `sign` builds the statement for its workflow id. */
async function undeploy(script: Partial<Script>, request: UndeployRequest, sign?: (workflowId: string, now: Date) => UndeployRequest['signed']) {
  const fakes = fakeActivities(script, signing);
  const workflowId = undeployWorkflowId(spec.name, String(++requests));
  // Issued at the server's time, which skips ahead while the earlier tests' workflows ran.
  const signed = sign?.(workflowId, new Date(await suite.env.currentTimeMs()));
  const result: UndeployResult = await suite.withWorkers(fakes, () =>
    suite.env.client.workflow.execute('undeployModel', {
      taskQueue: taskQueues.control,
      workflowId,
      args: [{ model: spec.name, request: { ...request, ...(signed ? { signed } : {}) } }],
    }),
  );
  return { result, fakes, workflowId };
}

const bob = { actor: 'bob', reason: 'the product is retired' };

describe('mlc undeploy (no lifecycle running)', () => {
  it("from a deployer: retires the live version under its own key, records the decision, pauses the model's monitoring", async () => {
    const { result, fakes, workflowId } = await undeploy({ undeployTarget: ended }, bob);
    expect(result).toEqual({ outcome: 'approved', version: 3 });
    expect(fakes.named('retireDeployment')).toEqual([{ model: spec.name, ...bob, retireKey: `${workflowId}/undeploy`, version: 3 }]);
    expect(fakes.named('retireAzureMlDeployments')).toEqual([]);
    expect(fakes.decisions).toEqual([
      expect.objectContaining({
        kind: 'undeploy',
        outcome: 'approved',
        ...bob,
        version: 3,
        artifactSha256: 'sha-3',
        workflowId,
        decisionKey: `${workflowId}/undeploy`,
      }),
    ]);
    expect(fakes.named('pauseMonitoringSchedule')).toEqual([
      { model: spec.name, note: `undeployed by bob (${workflowId}): the product is retired; version 3 taken off the endpoint, its monitoring paused` },
    ]);
  });

  it('with a lifecycle running that has deployed nothing yet (started after a stop): the earlier version is taken off', async () => {
    const { result, fakes } = await undeploy(
      { undeployTarget: { ...ended, runningLifecycle: { workflowId: 'mlc-retiring', stage: 'training', deployedVersion: null } } },
      bob,
    );
    expect(result).toEqual({ outcome: 'approved', version: 3 });
    expect(fakes.named('retireDeployment')).toHaveLength(1);
  });

  it('on Azure ML: the deployments go before the registry says the version is off', async () => {
    const onAzure = { ...live, target: 'azureml:prod/retiring-ep' }; // as recordAzureMlDeployment names it
    expect(deploymentTarget(azureSpec.deployment)).toBe(onAzure.target);
    const { result, fakes } = await undeploy({ undeployTarget: { spec: azureSpec, live: onAzure, runningLifecycle: null } }, bob);
    expect(result).toEqual({ outcome: 'approved', version: 3 });
    const order = fakes.calls.map((c) => c.name).filter((n) => n.startsWith('retire'));
    expect(order).toEqual(['retireAzureMlDeployments', 'retireDeployment']);
  });

  it('refuses, and records, anyone but a deployer; nothing is retired', async () => {
    const { result, fakes } = await undeploy({ undeployTarget: ended }, { actor: 'alice', reason: 'done' });
    expect(result).toEqual({ outcome: 'refused', version: 3, why: 'alice may not take retiring off its endpoint: only its deployers (bob) may' });
    expect(fakes.decisions).toEqual([expect.objectContaining({ kind: 'undeploy', outcome: 'refused', actor: 'alice', version: 3 })]);
    expect(fakes.named('retireDeployment')).toEqual([]);
    expect(fakes.named('pauseMonitoringSchedule')).toEqual([]);
  });

  it('answers without recording when there is nothing to decide: a running lifecycle that deployed it or is deploying, no such model, nothing deployed, another target', async () => {
    const cases: [UndeployTarget, RegExp][] = [
      [
        { ...ended, runningLifecycle: { workflowId: 'mlc-retiring', stage: 'monitoring', deployedVersion: 3 } },
        /^mlc-retiring is running and monitors version 3, which it deployed: take it off with mlc stop retiring --as <deployer> --reason "…" --undeploy$/,
      ],
      [
        { ...ended, runningLifecycle: { workflowId: 'mlc-retiring', stage: 'deploying', deployedVersion: null } },
        /^mlc-retiring is running and is deploying a version: take it off with mlc stop retiring/,
      ],
      [{ spec: null, live: null, runningLifecycle: null }, /^no model named retiring in the registry/],
      [{ ...ended, live: null }, /^no version of retiring is deployed, so there is nothing to take off/],
      [
        { ...ended, live: { ...live, target: 'azureml:prod/retiring-ep' } },
        /^version 3 runs on azureml:prod\/retiring-ep, but the spec of retiring's latest lifecycle deploys to local/,
      ],
      [
        {
          ...ended,
          spec: parseSpec({ ...azureSpec, deployment: { ...azureSpec.deployment, endpoint: 'other-ep' } }),
          live: { ...live, target: 'azureml:prod/retiring-ep' },
        },
        /^version 3 runs on azureml:prod\/retiring-ep, but the spec of retiring's latest lifecycle deploys to azureml:prod\/other-ep/,
      ],
    ];
    for (const [target, why] of cases) {
      const { result, fakes } = await undeploy({ undeployTarget: target }, bob);
      expect(result).toMatchObject({ outcome: 'refused', why: expect.stringMatching(why) });
      expect(fakes.decisions).toEqual([]);
      expect(fakes.named('retireDeployment')).toEqual([]);
    }
  });

  it('started by hand with a bad input: fails at once, naming each field, before it reads or records anything', async () => {
    const fakes = fakeActivities({ undeployTarget: ended }, signing);
    const failure = await suite
      .withWorkers(fakes, () =>
        suite.env.client.workflow.execute('undeployModel', {
          taskQueue: taskQueues.control,
          workflowId: undeployWorkflowId(spec.name, 'bad-input'),
          args: [{ model: 'Not A Slug', request: { actor: 'bob', reason: '  ', undeploy: true } }],
        }),
      )
      .then(
        () => null,
        (err: WorkflowFailedError) => err.cause,
      );
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'InvalidInput', nonRetryable: true });
    expect(failure?.message).toMatch(
      /^not an undeploy request \(mlc undeploy <model> --as <deployer> --reason "…"\): model: use lower-case letters.*; request\.reason: give a reason; request: Unrecognized key: "undeploy"$/,
    );
    expect(fakes.calls).toEqual([]);
  });

  it('that cannot be done: recorded as failed with the reason, monitoring left as it was', async () => {
    const { result, fakes } = await undeploy({ undeployTarget: ended, retireFails: 'the registry is read-only' }, bob);
    expect(result).toEqual({ outcome: 'failed', version: 3, why: 'RegistryUnavailable: the registry is read-only' });
    expect(fakes.decisions).toEqual([
      expect.objectContaining({ kind: 'undeploy', outcome: 'failed', reason: 'RegistryUnavailable: the registry is read-only' }),
    ]);
    expect(fakes.named('pauseMonitoringSchedule')).toEqual([]);
  });

  it('where the spec requires signatures: refuses unsigned and statements for another request or version; takes one for this request', async () => {
    const target = { undeployTarget: { ...ended, spec: signedSpec } };
    const statement = (workflowId: string, now: Date, version = 3, generation: number | null = null) =>
      signing.sign(
        'bob',
        { lifecycle: workflowId, generation, model: spec.name, version, decision: 'undeploy', reason: bob.reason },
        { manifestSha256: null, evaluationSha256: null },
        'bob',
        now,
      );
    const unsigned = await undeploy(target, bob);
    expect(unsigned.result).toMatchObject({ outcome: 'refused', why: expect.stringMatching(/^unsigned: retiring requires signed decisions/) });
    // A statement made for an earlier request cannot be sent again with a new one.
    const elsewhere = await undeploy(target, bob, (_id, now) => statement(undeployWorkflowId(spec.name, 'earlier'), now));
    expect(elsewhere.result).toMatchObject({ outcome: 'refused', why: expect.stringContaining('it is for lifecycle mlc-undeploy-retiring-earlier') });
    const otherVersion = await undeploy(target, bob, (id, now) => statement(id, now, 2));
    expect(otherVersion.result).toMatchObject({ outcome: 'refused', why: expect.stringContaining('it is about version 2, but version 3 is the one at stake') });
    const ofAGeneration = await undeploy(target, bob, (id, now) => statement(id, now, 3, 1));
    expect(ofAGeneration.result).toMatchObject({
      outcome: 'refused',
      why: expect.stringContaining('it is for generation 1, but this decision belongs to no generation'),
    });
    expect([unsigned, elsewhere, otherVersion, ofAGeneration].map((r) => r.fakes.decisions[0]?.outcome)).toEqual(['refused', 'refused', 'refused', 'refused']);

    const good = await undeploy(target, bob, (id, now) => statement(id, now));
    expect(good.result).toEqual({ outcome: 'approved', version: 3 });
    expect(good.fakes.decisions[0]).toMatchObject({ outcome: 'approved', signerKeyId: expect.any(String), envelope: expect.any(Object) });
  });
});
