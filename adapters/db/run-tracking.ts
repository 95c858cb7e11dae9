// Runs as `mlc runs` reads them, and their curves (MLflow's metric history). Curves are written
// once per run when training registers its outputs; the (run, metric, step) key makes a retried
// registration insert nothing, and points are written in batches so a long run is a few statements.
import { and, asc, desc, eq, getTableColumns, inArray } from 'drizzle-orm';
import type { MetricPoint, RunState, RunSummary } from './port';
import type { RegistryDb } from './registry';
import * as t from './schema';

const BATCH = 500;
const iso = (d: Date) => d.toISOString();

export async function recordMetricHistory(db: RegistryDb, runKey: string, points: MetricPoint[]): Promise<number> {
  let inserted = 0;
  for (let i = 0; i < points.length; i += BATCH) {
    const rows = points.slice(i, i + BATCH).map((p) => ({ runKey, metric: p.metric, step: p.step, epoch: p.epoch, value: p.value }));
    const added = await db.insert(t.metricHistory).values(rows).onConflictDoNothing().returning({ id: t.metricHistory.id });
    inserted += added.length;
  }
  return inserted;
}

export async function metricHistory(db: RegistryDb, runKey: string): Promise<MetricPoint[]> {
  const rows = await db
    .select({ metric: t.metricHistory.metric, step: t.metricHistory.step, epoch: t.metricHistory.epoch, value: t.metricHistory.value })
    .from(t.metricHistory)
    .where(eq(t.metricHistory.runKey, runKey))
    .orderBy(asc(t.metricHistory.metric), asc(t.metricHistory.step));
  return rows;
}

/** Runs of a model (or the runs named), newest first, each with the version it became. */
export async function listRuns(db: RegistryDb, where: { model: string } | { runKeys: string[] }): Promise<RunSummary[]> {
  const filter = 'model' in where ? eq(t.runs.model, where.model) : inArray(t.runs.runKey, where.runKeys);
  const rows = await db
    .select({ ...getTableColumns(t.runs), version: t.modelVersions.version })
    .from(t.runs)
    // A version's model is the run's model; the join names both so a reused key elsewhere cannot match.
    .leftJoin(t.modelVersions, and(eq(t.modelVersions.runKey, t.runs.runKey), eq(t.modelVersions.model, t.runs.model)))
    .where(filter)
    .orderBy(desc(t.runs.createdAt), desc(t.runs.id));
  return rows.map((r) => ({
    runKey: r.runKey,
    model: r.model,
    generation: r.generation,
    attempt: r.attempt,
    trial: r.trial,
    datasetHash: r.datasetHash,
    cluster: r.cluster,
    params: r.params,
    artifactUri: r.artifactUri,
    state: r.state as RunState,
    slurmJobId: r.slurmJobId,
    metrics: r.metrics,
    error: r.error,
    gitCommit: r.gitCommit,
    createdAt: iso(r.createdAt),
    finishedAt: r.finishedAt ? iso(r.finishedAt) : null,
    version: r.version ?? null,
  }));
}
