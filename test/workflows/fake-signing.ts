// Signing activities for workflow tests: real Ed25519 signatures and the real opening code,
// with the registry's key table in memory, so tests can forge, replay and impersonate.
import type { ControlActivities } from '../../activities';
import { openDecision, signDecision, type UnsignedPredicate } from '../../adapters/signing/decisions';
import { generateSigningKey, keyIdOf, type KeyPair } from '../../adapters/signing/keys';
import type { DecisionSubjects } from '../../domain/decision-statement';
import { MONITOR_ACTOR } from '../../domain/lifecycle';

/** The evidence every fake version's decisions bind (the fake run folders have no files). */
export const fakeEvidence = (version: number, onNas = false): DecisionSubjects => ({
  manifestSha256: version.toString(16).padStart(64, 'a'),
  evaluationSha256: version.toString(16).padStart(64, 'e'),
  ...(onNas ? { snapshot: `tank/mlc@v${version}` } : {}),
});

type SigningActivities = Pick<
  ControlActivities,
  | 'openSignedDecision'
  | 'decisionEvidence'
  | 'holdApprovedSnapshot'
  | 'signServiceDecision'
  | 'registerSigningKey'
  | 'listSigningKeys'
  | 'revokeSigningKey'
  | 'verifyDecisionLog'
>;

/** `onNas`: the artifact root is a TrueNAS dataset, so evidence names a snapshot and approvals hold it. */
export function fakeSigning(names: string[] = ['alice', 'bob', 'carol'], onNas = false) {
  const holds: string[] = [];
  const people = new Map<string, KeyPair>(names.map((n) => [n, generateSigningKey()]));
  const service = generateSigningKey();
  const registered = () => [
    ...[...people].map(([name, k]) => ({ name, publicKey: k.publicKey, keyId: keyIdOf(k.publicKey), addedBy: 'test', addedAt: '2026-01-01T00:00:00Z' })),
    { name: MONITOR_ACTOR, publicKey: service.publicKey, keyId: keyIdOf(service.publicKey), addedBy: 'worker', addedAt: '2026-01-01T00:00:00Z' },
  ];
  const activities: SigningActivities = {
    async openSignedDecision({ envelope }) {
      return openDecision(envelope, registered());
    },
    async decisionEvidence({ runDir }) {
      return fakeEvidence(Number(/(\d+)$/.exec(runDir)?.[1] ?? 1), onNas);
    },
    async holdApprovedSnapshot({ snapshot }) {
      holds.push(snapshot);
    },
    async signServiceDecision({ predicate, issuedAt }) {
      return signDecision(predicate, { manifestSha256: null, evaluationSha256: null }, service, issuedAt ? new Date(issuedAt) : new Date());
    },
    async registerSigningKey({ publicKey }) {
      return { keyId: keyIdOf(publicKey) };
    },
    async listSigningKeys() {
      return registered();
    },
    async revokeSigningKey() {
      return false;
    },
    async verifyDecisionLog({ model }) {
      return { model, rows: 0, signed: 0, unchained: 0, firstFailure: null };
    },
  };
  /** Signs as `who` (with their own key unless `withKeyOf` names another's), issued now or at `issuedAt` (a test server's skipped clock). */
  const sign = (who: string, predicate: Omit<UnsignedPredicate, 'actor'>, subjects: DecisionSubjects, withKeyOf = who, issuedAt?: Date) =>
    signDecision({ ...predicate, actor: who }, subjects, people.get(withKeyOf)!, issuedAt);
  return { activities, sign, holds };
}
