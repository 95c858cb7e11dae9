// Signal and update payloads for the property tests: a valid example of each human message,
// to break with the mutator, and the schema and judge that decide it. People send these with
// `temporal workflow signal --input '...'` and the Web UI, so anything JSON can carry arrives.
import fc from 'fast-check';
import type { z } from 'zod';
import {
  auditDecisionSchema,
  deployRequestSchema,
  judgeAuditDecision,
  judgeDeployRequest,
  judgeRetrainRequest,
  judgeRollback,
  judgeStopRequest,
  retrainRequestSchema,
  rollbackRequestSchema,
  stopRequestSchema,
  type DecisionView,
  type Verdict,
} from '../../domain/lifecycle';
import { parseSpec, type ModelSpec } from '../../domain/spec';

const signed = { payloadType: 'application/vnd.mlc.decision+json', payload: 'eyJhIjoxfQ==', signatures: [{ keyid: 'alice-1', sig: 'c2ln' }] };

export const specs: ModelSpec[] = [
  parseSpec({ name: 'fuzz', labels: ['neg', 'pos'], data: { path: 'd.jsonl' }, roles: { auditors: ['alice'], deployers: ['bob'] } }),
  parseSpec({
    name: 'fuzz-shared',
    labels: ['neg', 'pos'],
    data: { path: 'd.jsonl' },
    roles: { auditors: ['alice', 'carol'], deployers: ['bob', 'carol'], separationOfDuties: false },
  }),
];

const decisionView: fc.Arbitrary<DecisionView> = fc.record({
  kind: fc.constantFrom('audit', 'deploy', 'retrain', 'rollback', 'stop'),
  outcome: fc.constantFrom('approved', 'rejected', 'refused', 'requested', 'failed'),
  actor: fc.constantFrom('alice', 'bob', 'carol', 'mallory'),
  reason: fc.string(),
  version: fc.option(fc.integer({ min: 1, max: 6 })),
  sha256: fc.option(fc.constantFrom('a'.repeat(64), 'b'.repeat(64))),
  at: fc.constant('2025-01-01T00:00:00.000Z'),
});

/** What a judge needs besides the message: the lifecycle's state, generated too. */
export interface Situation {
  spec: ModelSpec;
  awaiting: { version: number; gatesPassed: boolean } | null;
  approvedVersion: number | null;
  approvers: string[];
  decisions: DecisionView[];
  live: number | null;
}

export const situation: fc.Arbitrary<Situation> = fc.record({
  spec: fc.constantFrom(...specs),
  awaiting: fc.option(fc.record({ version: fc.integer({ min: 1, max: 6 }), gatesPassed: fc.boolean() })),
  approvedVersion: fc.option(fc.integer({ min: 1, max: 6 })),
  approvers: fc.subarray(['alice', 'bob', 'carol']),
  decisions: fc.array(decisionView, { maxLength: 8 }),
  live: fc.option(fc.integer({ min: 1, max: 6 })),
});

export interface MessageKind<T> {
  name: string;
  schema: z.ZodType<T>;
  example: Record<string, unknown>;
  judge: (message: T, s: Situation) => Verdict;
}

const kind = <T>(k: MessageKind<T>) => k as unknown as MessageKind<unknown>;

export const messageKinds: MessageKind<unknown>[] = [
  kind({
    name: 'audit decision',
    schema: auditDecisionSchema,
    example: { decision: 'reject', actor: 'alice', reason: 'recall on q too low', version: 2, paramsOverride: { epochs: 5, dropout: 0.2 }, signed },
    judge: (d, s) => judgeAuditDecision(s.spec, d, s.awaiting),
  }),
  kind({
    name: 'deploy request',
    schema: deployRequestSchema,
    example: { actor: 'bob', reason: 'ship it', version: 2, signed },
    judge: (d, s) => judgeDeployRequest(s.spec, d.actor, s.approvedVersion, d.version, s.approvers),
  }),
  kind({
    name: 'retrain request',
    schema: retrainRequestSchema,
    example: { actor: 'mlc-monitor', reason: 'PSI 0.31 over 0.25', reportKey: 'monitoring/fuzz/r1.json', signed },
    judge: (r, s) => judgeRetrainRequest(s.spec, r),
  }),
  kind({
    name: 'rollback request',
    schema: rollbackRequestSchema,
    example: { actor: 'bob', version: 1, reason: 'v2 misroutes questions', signed },
    judge: (r, s) => judgeRollback(s.spec, r, s.decisions, s.live),
  }),
  kind({
    name: 'stop request',
    schema: stopRequestSchema,
    example: { actor: 'alice', reason: 'the data owner withdrew consent', signed },
    judge: (r, s) => judgeStopRequest(s.spec, r),
  }),
];
