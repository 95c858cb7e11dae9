// The decisions table as an append-only, hash-chained log per model: each row's hash covers
// its content and the previous row's hash, so an edited, deleted or inserted row breaks the
// chain at that row, and `mlc audit verify` names it. Appends for one model are serialized by
// a transaction-scoped advisory lock, so two workers never fork the chain.
import { createHash } from 'node:crypto';
import { asc, desc, eq, sql } from 'drizzle-orm';
import type { DecisionRecord } from './port';
import type { RegistryDb } from './registry';
import * as t from './schema';
import { canonicalJson } from './canonical-json';

type DecisionRow = typeof t.decisions.$inferSelect;

/** The hash of a row: every field a reader relies on, plus the previous row's hash. */
export function decisionRowHash(row: Omit<DecisionRow, 'id' | 'rowHash'>): string {
  const content = canonicalJson({
    prevHash: row.prevHash,
    decisionKey: row.decisionKey,
    model: row.model,
    version: row.version,
    kind: row.kind,
    outcome: row.outcome,
    actor: row.actor,
    reason: row.reason,
    artifactSha256: row.artifactSha256,
    workflowId: row.workflowId,
    decidedAt: row.decidedAt.toISOString(),
    envelope: row.envelope ?? null,
    signerKeyId: row.signerKeyId ?? null,
  });
  return createHash('sha256').update(content).digest('hex');
}

export async function appendDecision(db: RegistryDb, r: DecisionRecord): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`mlc-decisions:${r.model}`}))`);
    // Idempotent on the key: a retried activity finds its row and leaves the chain alone.
    const [existing] = await tx.select({ id: t.decisions.id }).from(t.decisions).where(eq(t.decisions.decisionKey, r.decisionKey));
    if (existing) return;
    const [last] = await tx
      .select({ rowHash: t.decisions.rowHash })
      .from(t.decisions)
      .where(eq(t.decisions.model, r.model))
      .orderBy(desc(t.decisions.id))
      .limit(1);
    const row = {
      decisionKey: r.decisionKey,
      model: r.model,
      version: r.version,
      kind: r.kind,
      outcome: r.outcome,
      actor: r.actor,
      reason: r.reason,
      artifactSha256: r.artifactSha256 ?? null,
      workflowId: r.workflowId,
      decidedAt: new Date(r.decidedAt),
      envelope: (r.envelope as DecisionRow['envelope']) ?? null,
      signerKeyId: r.signerKeyId ?? null,
      prevHash: last?.rowHash ?? null,
    };
    await tx.insert(t.decisions).values({ ...row, rowHash: decisionRowHash(row) });
  });
}

export interface DecisionChainReport {
  rows: DecisionRow[];
  /** Leading rows recorded before the log was chained. */
  unchained: number;
  firstBreak: ChainBreak | null;
}

export interface ChainBreak {
  id: number;
  decisionKey: string;
  why: string;
}

/** Re-walks a model's chain; returns the rows and the first row that fails, if any. */
export async function verifyDecisionChain(db: RegistryDb, model: string): Promise<DecisionChainReport> {
  const rows = await db.select().from(t.decisions).where(eq(t.decisions.model, model)).orderBy(asc(t.decisions.id));
  let prev: string | null = null;
  let unchained = 0;
  for (const row of rows) {
    const at = (why: string) => ({ rows, unchained, firstBreak: { id: row.id, decisionKey: row.decisionKey, why } });
    // Rows recorded before migration 0002 have no hash; the chain starts after them.
    if (row.rowHash === null && prev === null) {
      unchained += 1;
      continue;
    }
    if (row.rowHash === null) return at('the row has no hash: written outside the registry, or before the log was chained');
    if (row.prevHash !== prev)
      return at(
        `it links to ${row.prevHash?.slice(0, 12) ?? 'nothing'}, but the row before it hashes to ${prev?.slice(0, 12) ?? 'nothing'}: a row was deleted or inserted`,
      );
    if (decisionRowHash(row) !== row.rowHash) return at('its content no longer matches its hash: the row was edited');
    prev = row.rowHash;
  }
  return { rows, unchained, firstBreak: null };
}
