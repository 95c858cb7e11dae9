// The first half of judging a signed decision, shared by the lifecycle and `mlc undeploy`: the
// statement is opened (signature, registered key) and must say what its message says. What it
// must be about (lifecycle, generation, version, evidence, freshness) is each caller's check.
import type { DecisionStatement, Envelope } from '../domain/decision-statement';
import type { Verdict } from '../domain/lifecycle';
import type { ModelSpec } from '../domain/spec';
import { control } from './activities';

/** A message that may carry its signed statement. */
export interface Signable {
  actor: string;
  reason?: string;
  signed?: Envelope;
}

export type OpenedMessage = { refused: Verdict } | { unsigned: true } | { statement: DecisionStatement; keyid: string };

export async function openSignedMessage(spec: ModelSpec, m: Signable & { paramsOverride?: unknown }): Promise<OpenedMessage> {
  const refuse = (why: string) => ({ refused: { accepted: false, why: `signed statement refused: ${why}` } });
  if (!m.signed) {
    if (spec.roles.signatures !== 'required') return { unsigned: true };
    return {
      refused: {
        accepted: false,
        why: `unsigned: ${spec.name} requires signed decisions (roles.signatures: required). mlc signs with the key of --as (create it with mlc keys init); for the temporal CLI, mlc ... --print-signal (mlc undeploy --print-start) prints a signed message`,
      },
    };
  }
  const opened = await control.openSignedDecision({ envelope: m.signed });
  if (!opened.ok) return refuse(opened.why);
  const p = opened.statement.predicate;
  if (p.actor !== m.actor) return refuse(`the message is from ${m.actor}, the statement from ${p.actor}`);
  if (m.reason !== undefined && p.reason !== m.reason) return refuse('its reason differs from the message’s: the message was altered');
  if (JSON.stringify(p.paramsOverride ?? null) !== JSON.stringify(m.paramsOverride ?? null)) return refuse('its parameter changes differ from the message’s');
  return { statement: opened.statement, keyid: opened.keyid };
}
