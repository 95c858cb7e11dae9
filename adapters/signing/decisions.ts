// Signing a decision (on the decider's machine) and opening one (in the worker): a DSSE
// envelope around an in-toto Statement whose predicate is the decision.
import { randomBytes, type KeyObject } from 'node:crypto';
import {
  DECISION_LIFETIME_MS,
  DSSE_PAYLOAD_TYPE,
  decisionStatement,
  decisionStatementSchema,
  type DecisionPredicate,
  type DecisionStatement,
  type DecisionSubjects,
} from '../../domain/decision-statement';
import { envelopeSchema, signEnvelope, verifyEnvelope, type Envelope } from './dsse';
import { keyIdOf, parsePublicKey } from './keys';

export type UnsignedPredicate = Omit<DecisionPredicate, 'issuedAt' | 'expiresAt' | 'nonce'>;

export function signDecision(
  predicate: UnsignedPredicate,
  subjects: DecisionSubjects,
  signer: { privateKey: KeyObject; publicKey: string },
  now = new Date(),
): Envelope {
  const statement = decisionStatement(
    {
      ...predicate,
      issuedAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + DECISION_LIFETIME_MS).toISOString(),
      nonce: randomBytes(16).toString('hex'),
    },
    subjects,
  );
  return signEnvelope(DSSE_PAYLOAD_TYPE, Buffer.from(JSON.stringify(statement)), signer.privateKey, keyIdOf(signer.publicKey));
}

/** A registered public key and whose it is. */
export interface TrustedKey {
  name: string;
  publicKey: string;
}

export type OpenedDecision = { ok: true; statement: DecisionStatement; signer: string; keyid: string } | { ok: false; why: string };

/**
 * Checks the envelope's form and signature against the keys registered for the statement's
 * actor. Who signed is what counts: a statement claiming "alice" signed with bob's key is forged.
 */
export function openDecision(raw: unknown, trusted: readonly TrustedKey[]): OpenedDecision {
  const envelope = envelopeSchema.safeParse(raw);
  if (!envelope.success)
    return { ok: false, why: `not a DSSE envelope: ${envelope.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}` };
  if (envelope.data.payloadType !== DSSE_PAYLOAD_TYPE)
    return { ok: false, why: `payloadType is "${envelope.data.payloadType}", expected ${DSSE_PAYLOAD_TYPE}` };
  let statement: DecisionStatement;
  try {
    const parsed = decisionStatementSchema.safeParse(JSON.parse(Buffer.from(envelope.data.payload, 'base64').toString('utf8')));
    if (!parsed.success)
      return { ok: false, why: `the statement is malformed: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` };
    statement = parsed.data;
  } catch {
    return { ok: false, why: 'the payload is not base64-encoded JSON' };
  }
  const actor = statement.predicate.actor;
  const keys = trusted.filter((k) => k.name === actor);
  if (!keys.length) return { ok: false, why: `no public key is registered for ${actor} (an admin adds one with mlc keys add ${actor} <public key>)` };
  const verified = verifyEnvelope(
    envelope.data,
    keys.map((k) => ({ keyid: keyIdOf(k.publicKey), key: parsePublicKey(k.publicKey) })),
  );
  if (!verified) return { ok: false, why: `the signature does not verify under ${actor}'s registered key: forged, altered, or signed with another key` };
  return { ok: true, statement, signer: actor, keyid: verified.keyid };
}
