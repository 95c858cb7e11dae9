// Signed decisions in the lifecycle: with roles.signatures "required", a decision counts only
// as a statement signed by a registered key of its author, about this lifecycle's version and
// evidence, fresh and never presented before; the monitor signs with the worker's key; and
// separation of duties keeps whoever approved a version from deploying it.
import type { WorkflowHandle } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import type { LifecycleStatus, StopRequest } from '../../domain/lifecycle';
import { parseSpec, SpecError } from '../../domain/spec';
import { taskQueues } from '../../domain/temporal-names';
import { auditDecisionUpdate, deployRequestUpdate, retrainRequestSignal, stopRequestUpdate } from '../../workflows/messages';
import { lifecycleStarter, reach, until } from './drive';
import { timeSkippingSuite } from './env';
import { fakeActivities } from './fake-activities';
import { fakeEvidence, fakeSigning } from './fake-signing';

const roles = { auditors: ['alice'], deployers: ['bob'], signatures: 'required' as const };
const spec = parseSpec({ name: 'signed', labels: ['neg', 'pos'], data: { path: 'd.jsonl' }, roles });

const suite = timeSkippingSuite();
const start = lifecycleStarter(suite, 'signed', spec);
const stop = (h: WorkflowHandle, r: StopRequest) => h.executeUpdate(stopRequestUpdate, { args: [r] });

const run = <T>(fakes: ReturnType<typeof fakeActivities>, fn: () => Promise<T>): Promise<T> => suite.withWorkers(fakes, fn);

describe('signed decisions', () => {
  it('refuses unsigned, forged, non-auditor, other-version and replayed statements, and records the signer of the one that counts', async () => {
    const fakes = fakeActivities({ gatesPassed: [false, true] });
    await run(fakes, async () => {
      const h = await start();
      const s = await reach(h, 'awaiting_audit');
      expect(s.evidence).toEqual(fakeEvidence(1));
      const about = (version: number, decision: 'approve' | 'reject', reason: string) => ({
        lifecycle: h.workflowId,
        generation: 1,
        model: spec.name,
        version,
        decision,
        reason,
      });
      const send = (actor: string, decision: 'approve' | 'reject', reason: string, signed?: unknown) =>
        h.executeUpdate(auditDecisionUpdate, { args: [{ decision, actor, reason, version: 1, ...(signed ? { signed } : {}) } as never] });

      expect(await send('alice', 'approve', 'fine')).toMatchObject({ accepted: false, why: expect.stringContaining('unsigned') });
      const forged = fakes.sign('alice', about(1, 'approve', 'fine'), fakeEvidence(1), 'bob');
      expect(await send('alice', 'approve', 'fine', forged)).toMatchObject({ accepted: false, why: expect.stringContaining("alice's registered key") });
      const byCarol = fakes.sign('carol', about(1, 'approve', 'fine'), fakeEvidence(1));
      expect(await send('carol', 'approve', 'fine', byCarol)).toMatchObject({ accepted: false, why: expect.stringContaining('not an auditor') });
      const otherVersion = fakes.sign('alice', about(7, 'approve', 'fine'), fakeEvidence(7));
      expect(await send('alice', 'approve', 'fine', otherVersion)).toMatchObject({ accepted: false, why: expect.stringContaining('version 7') });
      const otherEvidence = fakes.sign('alice', about(1, 'approve', 'fine'), fakeEvidence(2));
      expect(await send('alice', 'approve', 'fine', otherEvidence)).toMatchObject({ accepted: false, why: expect.stringContaining('artifact manifest') });
      // Version 1 failed its gates: a valid approval is refused, and its statement is spent.
      const approval = fakes.sign('alice', about(1, 'approve', 'fine'), fakeEvidence(1));
      expect(await send('alice', 'approve', 'fine', approval)).toMatchObject({ accepted: false, why: expect.stringContaining('gates') });
      expect(await send('alice', 'approve', 'fine', approval)).toMatchObject({ accepted: false, why: expect.stringContaining('replayed') });
      const rejection = fakes.sign('alice', about(1, 'reject', 'q recall too low'), fakeEvidence(1));
      expect(await send('alice', 'reject', 'q recall too low', rejection)).toEqual({ accepted: true });

      // Right after the rejection the status still says version 1 awaits audit: wait for version 2.
      await until(h, (s) => s.version === 2 && s.stage === 'awaiting_audit', 'offered version 2 for audit');
      // The same rejection again, now that version 2 waits: about the wrong version, and spent.
      expect(
        await h.executeUpdate(auditDecisionUpdate, {
          args: [{ decision: 'reject', actor: 'alice', reason: 'q recall too low', version: 2, signed: rejection } as never],
        }),
      ).toMatchObject({
        accepted: false,
      });
      const refused = fakes.decisions.filter((d) => d.outcome === 'refused');
      expect(refused).toHaveLength(8);
      const accepted = fakes.decisions.find((d) => d.outcome === 'rejected')!;
      expect(accepted).toMatchObject({ actor: 'alice', envelope: rejection, signerKeyId: expect.any(String) });
      expect(refused.every((d) => d.envelope === undefined)).toBe(true);
      await h.terminate('test done');
    });
  });

  it('takes a signed deploy by another person, and a retrain request only when the monitor signed it', async () => {
    const fakes = fakeActivities({ degraded: true });
    await run(fakes, async () => {
      const h = await start();
      await reach(h, 'awaiting_audit');
      const base = { lifecycle: h.workflowId, generation: 1, model: spec.name, version: 1 };
      const approve = fakes.sign('alice', { ...base, decision: 'approve', reason: 'ok' }, fakeEvidence(1));
      expect(await h.executeUpdate(auditDecisionUpdate, { args: [{ decision: 'approve', actor: 'alice', reason: 'ok', signed: approve }] })).toEqual({
        accepted: true,
      });
      await reach(h, 'awaiting_deploy');
      const deploy = fakes.sign('bob', { ...base, decision: 'deploy', reason: 'release 1' }, fakeEvidence(1));
      expect(await h.executeUpdate(deployRequestUpdate, { args: [{ actor: 'bob', reason: 'release 1', signed: deploy }] })).toEqual({ accepted: true });
      await reach(h, 'monitoring');

      await h.signal(retrainRequestSignal, { actor: 'mlc-monitor', reason: 'drift, honest' });
      await suite.env.client.workflow.execute('modelMonitoring', {
        taskQueue: taskQueues.control,
        workflowId: `${h.workflowId}-monitor`,
        args: [{ model: spec.name, lifecycleWorkflowId: h.workflowId, labels: spec.labels, monitoring: spec.monitoring }],
      });
      await reach(h, 'awaiting_audit', 2);
      const retrains = fakes.decisions.filter((d) => d.kind === 'retrain');
      expect(retrains.map((d) => d.outcome)).toEqual(['refused', 'requested']);
      expect(retrains[0]!.reason).toContain('unsigned');
      expect(retrains[1]!.signerKeyId).toEqual(expect.any(String));
      await h.terminate('test done');
    });
  });

  it('separation of duties: a spec cannot name one person in both roles unless it opts out, and the opt-out is recorded', async () => {
    const both = { auditors: ['alice'], deployers: ['alice', 'bob'] };
    expect(() => parseSpec({ name: 'sod', labels: ['a', 'b'], data: { path: 'd.jsonl' }, roles: both })).toThrow(SpecError);
    const waived = parseSpec({ name: 'sod', labels: ['a', 'b'], data: { path: 'd.jsonl' }, roles: { ...both, separationOfDuties: false } });
    const fakes = fakeActivities();
    await run(fakes, async () => {
      const h = await start(waived);
      await reach(h, 'awaiting_audit');
      await h.executeUpdate(auditDecisionUpdate, { args: [{ decision: 'approve', actor: 'alice', reason: 'ok' }] });
      await reach(h, 'awaiting_deploy');
      expect(await h.executeUpdate(deployRequestUpdate, { args: [{ actor: 'alice', reason: 'ship it' }] })).toEqual({ accepted: true });
      await reach(h, 'monitoring');
      expect(fakes.decisions.at(-1)).toMatchObject({ kind: 'deploy', actor: 'alice', reason: expect.stringContaining('separation of duties waived') });
      await h.terminate('test done');
    });
  });

  it('on a TrueNAS artifact root, the statement must name the version’s snapshot, and approval holds it', async () => {
    const signing = fakeSigning(['alice', 'bob'], true);
    const fakes = fakeActivities({}, signing);
    await run(fakes, async () => {
      const h = await start();
      const s = await reach(h, 'awaiting_audit');
      expect(s.evidence?.snapshot).toBe('tank/mlc@v1');
      const about = { lifecycle: h.workflowId, generation: 1, model: spec.name, version: 1, decision: 'approve' as const, reason: 'ok' };
      const unnamed = fakes.sign('alice', about, fakeEvidence(1));
      expect(await h.executeUpdate(auditDecisionUpdate, { args: [{ decision: 'approve', actor: 'alice', reason: 'ok', signed: unnamed }] })).toMatchObject({
        accepted: false,
        why: expect.stringContaining('snapshot'),
      });
      expect(signing.holds).toEqual([]);
      const named = fakes.sign('alice', { ...about, snapshot: 'tank/mlc@v1' }, fakeEvidence(1, true));
      expect(await h.executeUpdate(auditDecisionUpdate, { args: [{ decision: 'approve', actor: 'alice', reason: 'ok', signed: named }] })).toEqual({
        accepted: true,
      });
      await reach(h, 'awaiting_deploy');
      // The hold follows the recorded approval, just after the stage changes.
      for (let i = 0; i < 100 && !signing.holds.length; i++) await new Promise((r) => setTimeout(r, 50));
      expect(signing.holds).toEqual(['tank/mlc@v1']);
      await h.terminate('test done');
    });
  });

  it('with signatures required: an unsigned stop is refused, a signed one counts and names its signer', async () => {
    const fakes = fakeActivities({}, fakeSigning(['alice', 'bob']));
    await run(fakes, async () => {
      const h = await start();
      await reach(h, 'awaiting_audit');
      expect(await stop(h, { actor: 'alice', reason: 'halt' })).toMatchObject({ accepted: false, why: expect.stringContaining('unsigned') });
      const about = { lifecycle: h.workflowId, generation: 1, model: spec.name, version: 1, decision: 'stop' as const, reason: 'halt' };
      const approval = fakes.sign('alice', { ...about, decision: 'approve' }, { manifestSha256: null, evaluationSha256: null });
      expect(await stop(h, { actor: 'alice', reason: 'halt', signed: approval })).toMatchObject({
        accepted: false,
        why: expect.stringContaining('"approve", expected stop'),
      });
      const evidence = { manifestSha256: null, evaluationSha256: null };
      // A signed plain stop cannot be turned into one that also takes the version off.
      const plain = fakes.sign('alice', about, evidence);
      expect(await stop(h, { actor: 'alice', reason: 'halt', undeploy: true, signed: plain })).toMatchObject({
        accepted: false,
        why: expect.stringContaining('"stop", expected undeploy'),
      });
      const signed = fakes.sign('alice', about, evidence);
      expect(await stop(h, { actor: 'alice', reason: 'halt', signed })).toEqual({ accepted: true });
      const result: LifecycleStatus = await h.result();
      expect(result.lastDecision).toMatchObject({ kind: 'stop', outcome: 'approved', actor: 'alice', signedBy: expect.any(String) });
    });
  });
});
