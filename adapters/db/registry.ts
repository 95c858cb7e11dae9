// The registry's queries, one method per intent, identical for PostgreSQL and PGlite (only
// opening and migrating differ; see open.ts). Every write is idempotent on its natural key:
// activities that call these may run twice after a crash.
import { type SQL, and, asc, desc, eq, gte, isNull, max, sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type {
  AliasChange,
  DatasetVersionRecord,
  DecisionKind,
  DecisionOutcome,
  DecisionRecord,
  DeploymentRecord,
  FeedbackRecord,
  MetricPoint,
  ModelSummary,
  ModelVersionRecord,
  MonitoringReportRecord,
  PredictionRecord,
  Registry,
  RetireRequest,
  RunRecord,
  RunState,
  RunUpdate,
  SigningKeyRecord,
} from './port';
import { appendDecision, verifyDecisionChain } from './decision-log';
import { aliasHistory, listModelAliases, moveChampion, removeChampion, setModelAlias } from './alias-log';
import { listRuns, metricHistory, recordMetricHistory } from './run-tracking';
import { monitoringReports, predictionsByRequestIds, summarizePredictions, type PredictionWindow } from './prediction-window';
import * as t from './schema';
import { predictionInserts, type ExecuteSql } from './prediction-insert';
import { DeploymentChangedError, InvalidFeedbackError, RegistryConflictError, RunNotFoundError, errorCode } from './errors';

export type RegistryDb = PgDatabase<PgQueryResultHKT>;

const UNIQUE_VIOLATION = '23505';
const iso = (d: Date) => d.toISOString();

export class DrizzleRegistry implements Registry {
  constructor(
    private readonly db: RegistryDb,
    private readonly onClose: () => Promise<void>,
    /** The driver's own statement runner, for the one write drizzle's builder makes too slow. */
    private readonly execute: ExecuteSql,
  ) {}

  async ensureModel(name: string, spec: Record<string, unknown>): Promise<void> {
    // The latest spec wins: a creator may edit the spec between generations.
    await this.db.insert(t.models).values({ name, spec }).onConflictDoUpdate({ target: t.models.name, set: { spec } });
  }

  async listModels(): Promise<ModelSummary[]> {
    // One statement, a correlated subquery per column: a model's newest deployment serves
    // unless it was retired, as activeDeployment says.
    const rows = await this.db
      .select({
        name: t.models.name,
        registeredAt: t.models.createdAt,
        versions: sql<number>`(select count(*)::int from ${t.modelVersions} v where v.model = ${t.models.name})`,
        latestVersion: sql<number | null>`(select max(v.version) from ${t.modelVersions} v where v.model = ${t.models.name})`,
        deployedVersion: sql<number | null>`(select case when d.retired_at is null then d.version end from ${t.deployments} d
          where d.model = ${t.models.name} order by d.deployed_at desc, d.id desc limit 1)`,
        lastDecision: sql<ModelSummary['lastDecision']>`(select json_build_object('kind', d.kind, 'outcome', d.outcome, 'actor', d.actor,
          'version', d.version, 'decidedAt', d.decided_at) from ${t.decisions} d where d.model = ${t.models.name}
          order by d.decided_at desc, d.id desc limit 1)`,
      })
      .from(t.models)
      .orderBy(t.models.name);
    return rows.map((r) => ({
      ...r,
      registeredAt: iso(r.registeredAt),
      lastDecision: r.lastDecision && { ...r.lastDecision, decidedAt: iso(new Date(r.lastDecision.decidedAt)) },
    }));
  }

  async modelSpec(name: string): Promise<Record<string, unknown> | null> {
    const [row] = await this.db.select({ spec: t.models.spec }).from(t.models).where(eq(t.models.name, name));
    return row?.spec ?? null;
  }

  async recordDatasetVersion(r: DatasetVersionRecord): Promise<void> {
    await this.db.insert(t.datasetVersions).values(r).onConflictDoNothing();
  }

  async createRun(r: RunRecord): Promise<void> {
    await this.db
      .insert(t.runs)
      .values({ ...r, trial: r.trial ?? null })
      .onConflictDoNothing({ target: t.runs.runKey });
  }

  async updateRun(runKey: string, u: RunUpdate): Promise<void> {
    const set: Partial<Omit<typeof t.runs.$inferInsert, 'metrics'>> & { metrics?: SQL } = {};
    if (u.state !== undefined) set.state = u.state;
    if (u.slurmJobId !== undefined) set.slurmJobId = u.slurmJobId;
    if (u.error !== undefined) set.error = u.error;
    if (u.gitCommit !== undefined) set.gitCommit = u.gitCommit;
    // Metrics accumulate, as in MLflow: training, evaluation and search each add theirs.
    if (u.metrics !== undefined) set.metrics = sql`coalesce(${t.runs.metrics}, '{}'::jsonb) || ${JSON.stringify(u.metrics)}::jsonb`;
    // coalesce: a repeated "finished" keeps the first finish time; a run live again has none, so
    // its duration runs on until its next end.
    const finishedAt = u.finished === true ? { finishedAt: sql`coalesce(${t.runs.finishedAt}, now())` } : u.finished === false ? { finishedAt: null } : {};
    const updated = await this.db
      .update(t.runs)
      .set({ ...set, ...finishedAt, runKey }) // runKey keeps the SET list non-empty
      .where(eq(t.runs.runKey, runKey))
      .returning({ id: t.runs.id });
    if (updated.length === 0) throw new RunNotFoundError(runKey);
  }

  async getRun(runKey: string) {
    const [row] = await this.db.select().from(t.runs).where(eq(t.runs.runKey, runKey));
    if (!row) return null;
    return {
      runKey: row.runKey,
      model: row.model,
      generation: row.generation,
      attempt: row.attempt,
      trial: row.trial,
      datasetHash: row.datasetHash,
      cluster: row.cluster,
      params: row.params,
      artifactUri: row.artifactUri,
      state: row.state as RunState,
      slurmJobId: row.slurmJobId,
      metrics: row.metrics,
      error: row.error,
    };
  }

  listRuns(model: string) {
    return listRuns(this.db, { model });
  }

  async describeRun(runKey: string) {
    const [run] = await listRuns(this.db, { runKeys: [runKey] });
    return run ?? null;
  }

  recordMetricHistory(runKey: string, points: MetricPoint[]) {
    return recordMetricHistory(this.db, runKey, points);
  }

  metricHistory(runKey: string) {
    return metricHistory(this.db, runKey);
  }

  async registerModelVersion(r: ModelVersionRecord): Promise<number> {
    // Retry covers a writer that skipped the lock; the advisory lock is what serialises
    // concurrent registrations of one model so max(version)+1 is never taken twice.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.transaction(async (tx) => {
          await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${'mlc.model_versions:' + r.model}))`);
          const existing = await this.versionOfRun(tx, r);
          if (existing !== null) return existing;
          const [top] = await tx
            .select({ v: max(t.modelVersions.version) })
            .from(t.modelVersions)
            .where(eq(t.modelVersions.model, r.model));
          const version = (top?.v ?? 0) + 1;
          await tx.insert(t.modelVersions).values({ ...r, version });
          return version;
        });
      } catch (error) {
        if (errorCode(error) !== UNIQUE_VIOLATION || attempt >= 3) throw error;
      }
    }
  }

  /** The version already registered for this run, or null; refuses a different artifact. */
  private async versionOfRun(db: RegistryDb, r: ModelVersionRecord): Promise<number | null> {
    const [row] = await db.select().from(t.modelVersions).where(eq(t.modelVersions.runKey, r.runKey));
    if (!row) return null;
    // Approvals bind to the sha256; silently keeping an old hash for a new file would let an
    // unaudited artifact ship under an approved version.
    if (row.model !== r.model || row.sha256 !== r.sha256) {
      throw new RegistryConflictError(
        'model_versions',
        r.runKey,
        `registered as ${row.model} v${row.version} sha256 ${row.sha256}, now offered as ${r.model} sha256 ${r.sha256}`,
      );
    }
    return row.version;
  }

  async getModelVersion(model: string, version: number) {
    const [row] = await this.db
      .select()
      .from(t.modelVersions)
      .where(and(eq(t.modelVersions.model, model), eq(t.modelVersions.version, version)));
    if (!row) return null;
    const { model: m, runKey, artifactUri, sha256, metrics } = row;
    return { model: m, version: row.version, runKey, artifactUri, sha256, metrics, createdAt: iso(row.createdAt) };
  }

  async recordDecision(r: DecisionRecord): Promise<void> {
    await appendDecision(this.db, r);
  }

  verifyDecisionChain(model: string) {
    return verifyDecisionChain(this.db, model);
  }

  async addSigningKey(r: SigningKeyRecord): Promise<void> {
    await this.db.insert(t.signingKeys).values(r).onConflictDoNothing({ target: t.signingKeys.publicKey });
  }

  async listSigningKeys(name?: string) {
    const inForce = isNull(t.signingKeys.revokedAt);
    const rows = await this.db
      .select()
      .from(t.signingKeys)
      .where(name === undefined ? inForce : and(inForce, eq(t.signingKeys.name, name)))
      .orderBy(asc(t.signingKeys.name), asc(t.signingKeys.id));
    return rows.map((k) => ({ name: k.name, publicKey: k.publicKey, keyId: k.keyId, addedBy: k.addedBy, addedAt: iso(k.addedAt) }));
  }

  async revokeSigningKey(publicKey: string): Promise<boolean> {
    const revoked = await this.db
      .update(t.signingKeys)
      .set({ revokedAt: new Date() })
      .where(and(eq(t.signingKeys.publicKey, publicKey), isNull(t.signingKeys.revokedAt)))
      .returning({ id: t.signingKeys.id });
    return revoked.length > 0;
  }

  async listDecisions(model: string) {
    const rows = await this.db.select().from(t.decisions).where(eq(t.decisions.model, model)).orderBy(asc(t.decisions.decidedAt), asc(t.decisions.id));
    return rows.map((row) => ({
      id: row.id,
      decisionKey: row.decisionKey,
      model: row.model,
      version: row.version,
      kind: row.kind as DecisionKind,
      outcome: row.outcome as DecisionOutcome,
      actor: row.actor,
      reason: row.reason,
      artifactSha256: row.artifactSha256,
      workflowId: row.workflowId,
      decidedAt: iso(row.decidedAt),
      ...(row.envelope ? { envelope: row.envelope, signerKeyId: row.signerKeyId } : {}),
    }));
  }

  async recordDeployment(r: DeploymentRecord): Promise<void> {
    // One transaction, so no reader ever sees a deployment whose version is not the champion.
    await this.db.transaction(async (tx) => {
      const added = await tx.insert(t.deployments).values(r).onConflictDoNothing({ target: t.deployments.deploymentKey }).returning({ id: t.deployments.id });
      // A retried activity finds its row: moving champion again could undo a later rollback.
      if (added.length) await moveChampion(tx, r);
    });
  }

  setModelAlias(change: AliasChange) {
    return setModelAlias(this.db, change);
  }

  listModelAliases(model: string) {
    return listModelAliases(this.db, model);
  }

  aliasHistory(model: string) {
    return aliasHistory(this.db, model);
  }

  async activeDeployment(model: string) {
    const row = await newestDeployment(this.db, model);
    if (!row || row.retiredAt) return null;
    const { id: _id, deployedAt, retiredAt: _at, retiredBy: _by, retireReason: _why, ...rest } = row;
    return { ...rest, deployedAt: iso(deployedAt) };
  }

  async retireDeployment(r: RetireRequest): Promise<{ retired: number | null }> {
    return this.db.transaction(async (tx) => {
      const row = await newestDeployment(tx, r.model);
      if (!row) return { retired: null };
      // Retired before (a retried activity): it stays off, and champion stays removed.
      if (row.retiredAt) return { retired: row.version };
      if (r.version !== undefined && row.version !== r.version) throw new DeploymentChangedError(r.model, r.version, row.version);
      await tx.update(t.deployments).set({ retiredAt: new Date(), retiredBy: r.actor, retireReason: r.reason }).where(eq(t.deployments.id, row.id));
      await removeChampion(tx, r);
      return { retired: row.version };
    });
  }

  async deployedModels(): Promise<string[]> {
    // Each model's newest deployment, kept where it still serves.
    const newest = this.db
      .selectDistinctOn([t.deployments.model], { model: t.deployments.model, retiredAt: t.deployments.retiredAt })
      .from(t.deployments)
      .orderBy(t.deployments.model, desc(t.deployments.deployedAt), desc(t.deployments.id))
      .as('newest');
    const rows = await this.db.select({ model: newest.model }).from(newest).where(isNull(newest.retiredAt)).orderBy(newest.model);
    return rows.map((r) => r.model);
  }

  async logPredictions(records: PredictionRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.execute(predictionInserts(records));
  }

  async predictionsSince(model: string, since: string) {
    const rows = await this.db
      .select()
      .from(t.predictions)
      .where(and(eq(t.predictions.model, model), gte(t.predictions.createdAt, new Date(since))))
      .orderBy(asc(t.predictions.createdAt), asc(t.predictions.id));
    return rows.map(({ id: _id, createdAt, ...rest }) => ({ ...rest, createdAt: iso(createdAt) }));
  }

  async addFeedback(records: FeedbackRecord[]): Promise<number> {
    if (records.length === 0) return 0;
    // The types allow neither only through a cast; the key (and monitoring) need one of them.
    const invalid = records.flatMap((r, i) => (r.text || r.requestId ? [] : [i]));
    if (invalid.length) throw new InvalidFeedbackError(records[invalid[0]!]!.model, invalid);
    const inserted = await this.db
      .insert(t.feedback)
      .values(records.map((r) => ({ model: r.model, text: r.text || null, requestId: r.requestId || null, label: r.label, source: r.source })))
      .onConflictDoNothing()
      .returning({ id: t.feedback.id });
    return inserted.length;
  }

  async feedbackSince(model: string, since: string) {
    const rows = await this.db
      .select()
      .from(t.feedback)
      .where(and(eq(t.feedback.model, model), gte(t.feedback.createdAt, new Date(since))))
      .orderBy(asc(t.feedback.createdAt), asc(t.feedback.id));
    // Absent rather than null, so a text-only row reads back as it was given.
    return rows.map(({ model: m, text, requestId, label, source, createdAt }) => ({
      model: m,
      label,
      source,
      createdAt: iso(createdAt),
      ...(requestId !== null ? { requestId, ...(text !== null && { text }) } : { text: text ?? '' }),
    }));
  }

  summarizePredictions(window: PredictionWindow) {
    return summarizePredictions(this.db, window);
  }

  predictionsByRequestIds(query: { model: string; version?: number; requestIds: string[]; since: string }) {
    return predictionsByRequestIds(this.db, query);
  }

  monitoringReports(model: string, limit: number) {
    return monitoringReports(this.db, model, limit);
  }

  async saveMonitoringReport(r: MonitoringReportRecord): Promise<void> {
    await this.db
      .insert(t.monitoringReports)
      .values({ ...r, windowStart: new Date(r.windowStart), windowEnd: new Date(r.windowEnd) })
      .onConflictDoNothing({ target: t.monitoringReports.reportKey });
  }

  async latestMonitoringReport(model: string) {
    const [row] = await this.db
      .select()
      .from(t.monitoringReports)
      .where(eq(t.monitoringReports.model, model))
      .orderBy(desc(t.monitoringReports.createdAt), desc(t.monitoringReports.id))
      .limit(1);
    if (!row) return null;
    const { id: _id, windowStart, windowEnd, createdAt, ...rest } = row;
    return { ...rest, windowStart: iso(windowStart), windowEnd: iso(windowEnd), createdAt: iso(createdAt) };
  }

  private closed = false;
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.onClose();
  }
}

/** A model's newest deployment row: a rollback is recorded as a new deployment of the older version, so newest = active unless retired. */
async function newestDeployment(db: RegistryDb, model: string) {
  const [row] = await db
    .select()
    .from(t.deployments)
    .where(eq(t.deployments.model, model))
    .orderBy(desc(t.deployments.deployedAt), desc(t.deployments.id))
    .limit(1);
  return row ?? null;
}
