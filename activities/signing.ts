// Signed decisions, worker side: open a statement against the registered keys (the workflow
// then checks what it is about), hash the evidence a decision binds, manage the keys, and
// re-check a model's whole decision log. Private keys never come here, except the worker's
// own service key, which signs the monitor's retrain requests.
import { createHash } from 'node:crypto';
import type { ActivityDeps } from './deps';
import { openDecision, signDecision, type OpenedDecision, type UnsignedPredicate } from '../adapters/signing/decisions';
import path from 'node:path';
import { keyIdOf, loadOrCreateServiceKey, parsePublicKey } from '../adapters/signing/keys';
import { manifestKeyOf, parseManifest } from '../adapters/artifacts/manifest';
import type { Manifest } from '../adapters/artifacts/port';
import { artifactLayout } from '../domain/artifact-layout';
import type { DecisionSubjects, Envelope } from '../domain/decision-statement';
import { holdSnapshot, snapshotNameFor, takeSnapshot } from '../adapters/truenas/snapshots';

/**
 * The digest a decision binds: every file of the version's folder (key, size, sha256), not the
 * manifest's bytes, which also hold when it was written and change if it is rewritten.
 */
export function manifestDigest(manifest: Manifest): string {
  const lines = manifest.files.map((f) => `${f.sha256}  ${f.size}  ${f.key}\n`).join('');
  return createHash('sha256').update(lines).digest('hex');
}

export interface DecisionLogReport {
  model: string;
  rows: number;
  signed: number;
  unchained: number;
  /** The first row whose chain link or signature fails, and why; null: intact. */
  firstFailure: { id: number; decisionKey: string; why: string } | null;
}

export function signingActivities({ store, registry, config }: ActivityDeps) {
  const serviceKeyFile = path.join(config.paths.secrets, 'service-signing.key');
  return {
    /** Opens a signed decision against the keys registered for the actor it names. */
    async openSignedDecision(input: { envelope: Envelope }): Promise<OpenedDecision> {
      const actor = actorOf(input.envelope);
      const keys = actor ? await registry.listSigningKeys(actor) : [];
      return openDecision(input.envelope, keys);
    },

    /**
     * The digests of a version's artifact manifest and of its evaluation report; on a TrueNAS
     * artifact root also a ZFS snapshot of it, which the auditor's statement then names.
     */
    async decisionEvidence(input: { runDir: string }): Promise<DecisionSubjects> {
      const manifest = parseManifest(input.runDir, await store.get(manifestKeyOf(input.runDir)).catch(() => undefined));
      const evaluationKey = `${artifactLayout.evaluation(input.runDir)}/evaluation.json`;
      const evaluation = await store.get(evaluationKey);
      const manifestSha256 = manifestDigest(manifest);
      const evidence = { manifestSha256, evaluationSha256: createHash('sha256').update(evaluation).digest('hex') };
      if (!config.nas) return evidence;
      const snapshot = await takeSnapshot(config.nas, snapshotNameFor(path.basename(input.runDir), manifestSha256));
      return { ...evidence, snapshot };
    },

    /** Once approved, the snapshot is held: ZFS refuses to destroy it until the hold is released. */
    async holdApprovedSnapshot(input: { snapshot: string }): Promise<void> {
      if (!config.nas) throw new Error(`the approval names snapshot ${input.snapshot}, but this worker has no TrueNAS configured (nas in the configuration)`);
      await holdSnapshot(config.nas, input.snapshot);
    },

    /**
     * The monitor's retrain request, signed with the worker's service key. `issuedAt` is the
     * monitoring workflow's time, the clock the lifecycle judges freshness by.
     */
    async signServiceDecision(input: { predicate: UnsignedPredicate; issuedAt?: string }): Promise<Envelope> {
      const key = await loadOrCreateServiceKey(serviceKeyFile);
      // Registered on first use: the worker is the one holder of this key.
      await registry.addSigningKey({ name: input.predicate.actor, publicKey: key.publicKey, keyId: keyIdOf(key.publicKey), addedBy: 'worker' });
      return signDecision(input.predicate, { manifestSha256: null, evaluationSha256: null }, key, input.issuedAt ? new Date(input.issuedAt) : new Date());
    },

    async registerSigningKey(input: { name: string; publicKey: string; addedBy: string }): Promise<{ keyId: string }> {
      parsePublicKey(input.publicKey);
      const keyId = keyIdOf(input.publicKey);
      await registry.addSigningKey({ ...input, keyId });
      return { keyId };
    },

    async listSigningKeys(input: { name?: string }) {
      return registry.listSigningKeys(input.name);
    },

    async revokeSigningKey(input: { publicKey: string }): Promise<boolean> {
      return registry.revokeSigningKey(input.publicKey);
    },

    /** Re-walks the hash chain and re-verifies every signature; names the first row that fails. */
    async verifyDecisionLog(input: { model: string }): Promise<DecisionLogReport> {
      const chain = await registry.verifyDecisionChain(input.model);
      const keys = await registry.listSigningKeys();
      const base = { model: input.model, rows: chain.rows.length, signed: chain.rows.filter((r) => r.envelope).length, unchained: chain.unchained };
      if (chain.firstBreak) return { ...base, firstFailure: chain.firstBreak };
      for (const row of chain.rows) {
        if (!row.envelope) continue;
        const opened = openDecision(row.envelope, keys);
        const why = !opened.ok
          ? opened.why
          : opened.statement.predicate.actor !== row.actor
            ? `the row says ${row.actor} decided, but the statement is ${opened.statement.predicate.actor}'s`
            : null;
        if (why) return { ...base, firstFailure: { id: row.id, decisionKey: row.decisionKey, why } };
      }
      return { ...base, firstFailure: null };
    },
  };
}

function actorOf(envelope: Envelope): string | null {
  try {
    const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as { predicate?: { actor?: unknown } };
    return typeof statement.predicate?.actor === 'string' ? statement.predicate.actor : null;
  } catch {
    return null;
  }
}
