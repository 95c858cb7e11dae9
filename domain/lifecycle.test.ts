import { describe, expect, it } from 'vitest';
import {
  MONITOR_ACTOR,
  auditDecisionSchema,
  judgeAuditDecision,
  judgeDeployRequest,
  judgeRetrainRequest,
  judgeRollback,
  judgeStopRequest,
  runKeyFor,
  submissionKeyFor,
  safeId,
  type DecisionView,
} from './lifecycle';
import { parseSpec } from './spec';

const spec = parseSpec({ name: 'm', labels: ['a', 'b'], data: { path: 'x' }, roles: { auditors: ['alice'], deployers: ['bob'] } });
const approve = { decision: 'approve' as const, actor: 'alice', reason: 'ok' };

describe('judging human decisions', () => {
  it('counts only auditors, only for the version awaiting audit, only when gates passed', () => {
    expect(judgeAuditDecision(spec, approve, { version: 2, gatesPassed: true })).toEqual({ accepted: true });
    expect(judgeAuditDecision(spec, { ...approve, actor: 'bob' }, { version: 2, gatesPassed: true })).toMatchObject({
      accepted: false,
      why: expect.stringContaining('not an auditor'),
    });
    expect(judgeAuditDecision(spec, { ...approve, version: 1 }, { version: 2, gatesPassed: true })).toMatchObject({
      accepted: false,
      why: expect.stringContaining('version 2 is awaiting'),
    });
    expect(judgeAuditDecision(spec, approve, { version: 2, gatesPassed: false })).toMatchObject({ accepted: false });
    expect(judgeAuditDecision(spec, { ...approve, decision: 'reject' }, { version: 2, gatesPassed: false })).toEqual({ accepted: true });
    expect(judgeAuditDecision(spec, approve, null)).toMatchObject({ accepted: false });
  });

  it('counts only deployers, only for the approved version', () => {
    expect(judgeDeployRequest(spec, 'bob', 3)).toEqual({ accepted: true });
    expect(judgeDeployRequest(spec, 'alice', 3).accepted).toBe(false);
    expect(judgeDeployRequest(spec, 'bob', 3, 2).accepted).toBe(false);
    expect(judgeDeployRequest(spec, 'bob', null).accepted).toBe(false);
  });

  it('counts retrain requests from the monitor, auditors and deployers only', () => {
    for (const actor of [MONITOR_ACTOR, 'alice', 'bob']) expect(judgeRetrainRequest(spec, { actor })).toEqual({ accepted: true });
    expect(judgeRetrainRequest(spec, { actor: 'mallory' })).toEqual({
      accepted: false,
      why: 'mallory may not request a retrain of m: only its auditors (alice) and deployers (bob) may',
    });
  });

  it('counts a stop that also takes the version off the endpoint from deployers only', () => {
    expect(judgeStopRequest(spec, { actor: 'bob', undeploy: true })).toEqual({ accepted: true });
    expect(judgeStopRequest(spec, { actor: 'alice', undeploy: true })).toEqual({
      accepted: false,
      why: 'alice may stop m but not take its version off the endpoint: only its deployers (bob) may (or stop it without --undeploy)',
    });
  });

  it('counts stop requests from auditors and deployers only', () => {
    for (const actor of ['alice', 'bob']) expect(judgeStopRequest(spec, { actor })).toEqual({ accepted: true });
    expect(judgeStopRequest(spec, { actor: MONITOR_ACTOR })).toEqual({
      accepted: false,
      why: 'mlc-monitor may not stop m: only its auditors (alice) and deployers (bob) may',
    });
  });
});

describe('run keys', () => {
  it('are stable, readable, and safe for job names and folders', () => {
    expect(runKeyFor('mlc-thai', 1, 2)).toBe('mlc-thai-g1-a2');
    expect(runKeyFor('mlc-thai', 1, 2, 1)).toBe('mlc-thai-g1-a2-r1');
    // A resubmission keeps the run key and gets a submission key of its own.
    expect(submissionKeyFor('mlc-thai-g1-a2', 0)).toBe('mlc-thai-g1-a2');
    expect(submissionKeyFor('mlc-thai-g1-a2', 2)).toBe('mlc-thai-g1-a2-r2');
    const odd = safeId('my wf/$(id);x');
    expect(odd).toMatch(/^[A-Za-z0-9-]+$/);
    expect(safeId('my wf/$(id);y')).not.toBe(odd);
  });
});

describe('audit decisions with changes', () => {
  it('carry only the parameters the auditor changed', () => {
    const d = auditDecisionSchema.parse({ decision: 'reject', actor: 'alice', reason: 'more epochs', paramsOverride: { epochs: 9 } });
    expect(d.paramsOverride).toEqual({ epochs: 9 });
    expect(() => auditDecisionSchema.parse({ decision: 'reject', actor: 'alice', reason: 'x', paramsOverride: { epoch: 9 } })).toThrow();
  });
});

describe('rollbacks', () => {
  const approvedV1: DecisionView = { kind: 'audit', outcome: 'approved', actor: 'alice', reason: 'ok', version: 1, sha256: 'sha-1', at: 't' };
  it('go only to a version an auditor approved, by a deployer, and not to the live one', () => {
    expect(judgeRollback(spec, { actor: 'bob', version: 1, reason: 'x' }, [approvedV1], 2)).toEqual({ accepted: true });
    expect(judgeRollback(spec, { actor: 'alice', version: 1, reason: 'x' }, [approvedV1], 2).accepted).toBe(false);
    expect(judgeRollback(spec, { actor: 'bob', version: 1, reason: 'x' }, [approvedV1], 1).accepted).toBe(false);
    const rejectedV3: DecisionView = { ...approvedV1, outcome: 'rejected', version: 3 };
    expect(judgeRollback(spec, { actor: 'bob', version: 3, reason: 'x' }, [approvedV1, rejectedV3], 2).accepted).toBe(false);
  });
});
