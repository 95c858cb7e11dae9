// What a signed decision says, and the checks that need no cryptography: the workflow runs
// them deterministically once an activity has verified the signature (adapters/signing).
// The statement is an in-toto Statement v1, so tools outside this project can read it: its
// subjects are the version's artifact manifest and the evaluation report the decision was
// based on, and its predicate is the decision itself.
import { z } from 'zod';
import type { Verdict } from './lifecycle';
import { userNameSchema } from './spec';

export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const DECISION_PREDICATE_TYPE = 'https://mlc.dev/decision/v1';
export const DSSE_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
/** How long a signed decision may wait before it is delivered. */
export const DECISION_LIFETIME_MS = 24 * 60 * 60 * 1000;

export const decisionKinds = ['approve', 'reject', 'deploy', 'rollback', 'retrain', 'stop', 'undeploy'] as const;
export type SignedDecisionKind = (typeof decisionKinds)[number];

/** A DSSE envelope as it travels in a signal or update (and is stored with the decision). */
export const envelopeSchema = z.strictObject({
  payloadType: z.string().min(1).max(200),
  payload: z
    .string()
    .min(1)
    .max(64 * 1024),
  signatures: z
    .array(z.strictObject({ keyid: z.string().max(200).optional(), sig: z.string().min(1).max(1024) }))
    .min(1)
    .max(8),
});
export type Envelope = z.infer<typeof envelopeSchema>;

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 in hex');

export const decisionPredicateSchema = z.strictObject({
  lifecycle: z.string().min(1).max(200),
  /**
   * Null only where no generation is at stake: the monitor's retrain requests (a Schedule
   * outlives generations; the version pins it) and mlc undeploy, after a lifecycle.
   */
  generation: z.number().int().positive().nullable(),
  model: z.string().min(1).max(63),
  version: z.number().int().positive().nullable(),
  decision: z.enum(decisionKinds),
  actor: userNameSchema,
  reason: z.string().max(4000),
  issuedAt: z.iso.datetime(),
  expiresAt: z.iso.datetime(),
  nonce: z.string().regex(/^[0-9a-f]{32}$/, '16 random bytes in hex'),
  /** Parameter changes a rejection asks for. */
  paramsOverride: z.record(z.string(), z.unknown()).optional(),
  /** A ZFS snapshot holding the approved bytes, when the artifact root is a TrueNAS dataset. */
  snapshot: z.string().max(300).optional(),
  /** Set when the spec allows one person to audit and deploy: the trail shows it was allowed. */
  separationOfDutiesWaived: z.boolean().optional(),
});
export type DecisionPredicate = z.infer<typeof decisionPredicateSchema>;

export const decisionStatementSchema = z.strictObject({
  _type: z.literal(STATEMENT_TYPE),
  subject: z.array(z.strictObject({ name: z.string().min(1).max(300), digest: z.strictObject({ sha256 }) })).max(4),
  predicateType: z.literal(DECISION_PREDICATE_TYPE),
  predicate: decisionPredicateSchema,
});
export type DecisionStatement = z.infer<typeof decisionStatementSchema>;

/** The evidence a decision binds: names are informative, digests are what is checked. */
export interface DecisionSubjects {
  manifestSha256: string | null;
  evaluationSha256: string | null;
  /** The ZFS snapshot (dataset@name) holding the version's bytes, when the artifact root is on TrueNAS. */
  snapshot?: string | null;
}

export function decisionStatement(predicate: DecisionPredicate, subjects: DecisionSubjects): DecisionStatement {
  const name = `${predicate.model}/v${predicate.version ?? 'none'}`;
  return {
    _type: STATEMENT_TYPE,
    subject: [
      ...(subjects.manifestSha256 ? [{ name: `${name}/manifest.json`, digest: { sha256: subjects.manifestSha256 } }] : []),
      ...(subjects.evaluationSha256 ? [{ name: `${name}/evaluation.json`, digest: { sha256: subjects.evaluationSha256 } }] : []),
    ],
    predicateType: DECISION_PREDICATE_TYPE,
    predicate,
  };
}

export function subjectsOf(statement: DecisionStatement): DecisionSubjects {
  const find = (suffix: string) => statement.subject.find((s) => s.name.endsWith(suffix))?.digest.sha256 ?? null;
  return { manifestSha256: find('/manifest.json'), evaluationSha256: find('/evaluation.json') };
}

/** What the lifecycle expects a decision to be about, right now. */
export interface ExpectedDecision {
  lifecycle: string;
  /** Null for a decision outside any lifecycle generation (mlc undeploy's own workflow). */
  generation: number | null;
  decisions: readonly SignedDecisionKind[];
  version: number | null;
  subjects: DecisionSubjects;
  /** Workflow time. */
  now: Date;
  /** Nonces already used in this lifecycle (a replayed statement reuses one). */
  seenNonces: ReadonlySet<string>;
}

/** Everything but the signature: context, evidence, freshness and replay. */
export function checkStatement(statement: DecisionStatement, expected: ExpectedDecision): Verdict {
  const p = statement.predicate;
  const refuse = (why: string): Verdict => ({ accepted: false, why: `signed statement refused: ${why}` });
  if (p.lifecycle !== expected.lifecycle) return refuse(`it is for lifecycle ${p.lifecycle}, not ${expected.lifecycle}`);
  if (expected.generation === null) {
    if (p.generation !== null) return refuse(`it is for generation ${p.generation}, but this decision belongs to no generation`);
  } else {
    if (p.generation === null && p.decision !== 'retrain') return refuse('it names no generation');
    if (p.generation !== null && p.generation !== expected.generation)
      return refuse(`it is for generation ${p.generation}; this is generation ${expected.generation}`);
  }
  if (!expected.decisions.includes(p.decision)) return refuse(`it says "${p.decision}", expected ${expected.decisions.join(' or ')}`);
  if (expected.version !== null && p.version !== expected.version)
    return refuse(`it is about version ${p.version}, but version ${expected.version} is the one at stake`);
  const got = subjectsOf(statement);
  if (expected.subjects.manifestSha256 && got.manifestSha256 !== expected.subjects.manifestSha256) {
    return refuse(
      `it binds artifact manifest ${short(got.manifestSha256)}, but version ${expected.version}'s manifest is ${short(expected.subjects.manifestSha256)}`,
    );
  }
  if (expected.subjects.evaluationSha256 && got.evaluationSha256 !== expected.subjects.evaluationSha256) {
    return refuse(`it binds evaluation report ${short(got.evaluationSha256)}, but the report is ${short(expected.subjects.evaluationSha256)}`);
  }
  if (expected.subjects.snapshot && p.snapshot !== expected.subjects.snapshot) {
    return refuse(`it names snapshot ${p.snapshot ?? 'none'}, but version ${expected.version} is held in ${expected.subjects.snapshot}`);
  }
  const issued = Date.parse(p.issuedAt);
  const expires = Date.parse(p.expiresAt);
  if (expires - issued > DECISION_LIFETIME_MS) return refuse(`it is valid for more than ${DECISION_LIFETIME_MS / 3_600_000} hours`);
  if (expected.now.getTime() > expires) return refuse(`it expired at ${p.expiresAt}; sign a new one`);
  if (issued - expected.now.getTime() > 5 * 60_000) return refuse(`it was issued in the future (${p.issuedAt}); check the signer's clock`);
  if (expected.seenNonces.has(p.nonce)) return refuse(`nonce ${p.nonce} was used before: a replayed statement`);
  return { accepted: true };
}

function short(sha: string | null): string {
  return sha ? sha.slice(0, 12) : 'none';
}
