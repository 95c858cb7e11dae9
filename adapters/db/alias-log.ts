// Model aliases (MLflow's aliases, which replaced its stages): the current pointer per
// (model, alias) moves in one upsert, and each move is appended to model_alias_events with the
// version it replaced. Moves for one model are serialized by a transaction-scoped advisory lock,
// so "previous version" is exact even when two writers race.
import { asc, eq, and, sql } from 'drizzle-orm';
import { CHAMPION, aliasRefusal } from './aliases';
import { AliasRefusedError, UnknownModelVersionError } from './errors';
import type { AliasChange, AliasEvent, ModelAlias } from './port';
import type { RegistryDb } from './registry';
import * as t from './schema';

const iso = (d: Date) => d.toISOString();

/** The public path: refuses champion, malformed names and versions the model lacks. */
export async function setModelAlias(db: RegistryDb, change: AliasChange) {
  const refusal = aliasRefusal(change.alias);
  if (refusal) throw new AliasRefusedError(change.alias, refusal);
  return db.transaction(async (tx) => {
    const [known] = await tx
      .select({ id: t.modelVersions.id })
      .from(t.modelVersions)
      .where(and(eq(t.modelVersions.model, change.model), eq(t.modelVersions.version, change.version)));
    if (!known) throw new UnknownModelVersionError(change.model, change.version);
    return moveAlias(tx, change);
  });
}

/** Points `champion` at a deployed version; called inside recordDeployment's transaction. */
export function moveChampion(tx: RegistryDb, deployment: { model: string; version: number; actor: string; target: string; deploymentKey: string }) {
  return moveAlias(tx, {
    model: deployment.model,
    alias: CHAMPION,
    version: deployment.version,
    setBy: deployment.actor,
    reason: `deployed to ${deployment.target} (deployment ${deployment.deploymentKey})`,
    changeKey: `deployment:${deployment.deploymentKey}`,
  });
}

/** Removes `champion` once its version is taken off the endpoint; called inside retireDeployment's transaction. */
export function removeChampion(tx: RegistryDb, retirement: { model: string; actor: string; reason: string; retireKey: string }) {
  return moveAlias(tx, {
    model: retirement.model,
    alias: CHAMPION,
    version: null,
    setBy: retirement.actor,
    reason: `taken off the endpoint: ${retirement.reason}`,
    changeKey: `retirement:${retirement.retireKey}`,
  });
}

/** Points an alias at a version, or removes it (version null), and appends the change to its history. */
async function moveAlias(
  tx: RegistryDb,
  c: Omit<AliasChange, 'version'> & { version: number | null },
): Promise<{ applied: boolean; previousVersion: number | null }> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`mlc-aliases:${c.model}`}))`);
  const [done] = await tx
    .select({ previousVersion: t.modelAliasEvents.previousVersion })
    .from(t.modelAliasEvents)
    .where(eq(t.modelAliasEvents.changeKey, c.changeKey));
  // Applied before (a retried activity or command): moving it again could undo a later move.
  if (done) return { applied: false, previousVersion: done.previousVersion };
  const named = and(eq(t.modelAliases.model, c.model), eq(t.modelAliases.alias, c.alias));
  const [current] = await tx.select({ version: t.modelAliases.version }).from(t.modelAliases).where(named);
  const previousVersion = current?.version ?? null;
  const setAt = new Date();
  await tx.insert(t.modelAliasEvents).values({ ...c, previousVersion, setAt });
  const { version } = c;
  if (version === null) await tx.delete(t.modelAliases).where(named);
  else {
    await tx
      .insert(t.modelAliases)
      .values({ model: c.model, alias: c.alias, version, setBy: c.setBy, reason: c.reason, setAt })
      .onConflictDoUpdate({ target: [t.modelAliases.model, t.modelAliases.alias], set: { version, setBy: c.setBy, reason: c.reason, setAt } });
  }
  return { applied: true, previousVersion };
}

export async function listModelAliases(db: RegistryDb, model: string): Promise<ModelAlias[]> {
  const rows = await db.select().from(t.modelAliases).where(eq(t.modelAliases.model, model)).orderBy(asc(t.modelAliases.alias));
  return rows.map((r) => ({ model: r.model, alias: r.alias, version: r.version, setBy: r.setBy, setAt: iso(r.setAt), reason: r.reason }));
}

export async function aliasHistory(db: RegistryDb, model: string): Promise<AliasEvent[]> {
  const rows = await db
    .select()
    .from(t.modelAliasEvents)
    .where(eq(t.modelAliasEvents.model, model))
    .orderBy(asc(t.modelAliasEvents.setAt), asc(t.modelAliasEvents.id));
  return rows.map((r) => ({
    model: r.model,
    alias: r.alias,
    version: r.version,
    previousVersion: r.previousVersion,
    setBy: r.setBy,
    setAt: iso(r.setAt),
    reason: r.reason,
    changeKey: r.changeKey,
  }));
}
