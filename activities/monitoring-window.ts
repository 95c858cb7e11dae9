// What a monitoring run reads: the window's summary (aggregated in the registry for the built-in
// endpoint, folded row by row from Azure ML's request log), the served predictions feedback
// names, and the reference evaluation left. Kept apart from the activity so each path is short.
import type { PredictionRecord, Registry } from '../adapters/db/port';
import type { AzureMlDeployer } from '../adapters/azureml/deployer';
import { artifactLayout } from '../domain/artifact-layout';
import { WindowAccumulator, type ScoredRow, type WindowSummary } from '../domain/monitoring/features';
import type { MonitoringReference } from '../domain/monitoring/window';
import type { ModelSpec } from '../domain/spec';
import type { ArtifactStore } from '../adapters/artifacts/port';
import type { EvaluationFile } from './evaluate';

export interface ServedRow {
  requestId: string;
  text: string;
  label: string;
  version: number;
}

export interface WindowData {
  summary: WindowSummary;
  /** Served predictions of this version whose request id some feedback row names. */
  served: ServedRow[];
  source: 'registry' | 'azureml-request-log';
}

/**
 * The built-in endpoint logs to the registry, which aggregates the window itself; Azure ML
 * logs to Blob, read as a stream of lines and folded into the same summary as they come.
 */
export async function readWindow(
  deps: { registry: Registry; azureMl: (workspace: string) => AzureMlDeployer },
  w: { model: string; version: number; from: string; to: string; labels: string[]; deployedAt: string; requestIds: string[] },
  deployment: ModelSpec['deployment'] | undefined,
): Promise<WindowData> {
  if (deployment?.target === 'azureml') {
    const wanted = new Set(w.requestIds);
    const acc = new WindowAccumulator(w.labels);
    const served: ServedRow[] = [];
    const [from, to, deployedAt] = [Date.parse(w.from), Date.parse(w.to), Date.parse(w.deployedAt)];
    for await (const p of deps.azureMl(deployment.workspace).requestLogStream(w.model, new Date(Math.min(from, deployedAt)))) {
      if (p.version !== w.version) continue;
      const at = Date.parse(p.createdAt);
      if (at >= from && at < to) acc.add(scoredRowOf(p));
      if (wanted.has(p.requestId) && at >= deployedAt) served.push(p);
    }
    return { summary: acc.summary(), served, source: 'azureml-request-log' };
  }
  const [summary, served] = await Promise.all([
    deps.registry.summarizePredictions({ model: w.model, version: w.version, from: w.from, to: w.to, labels: w.labels }),
    deps.registry.predictionsByRequestIds({ model: w.model, version: w.version, requestIds: w.requestIds, since: w.deployedAt }),
  ]);
  return { summary, served, source: 'registry' };
}

/** A logged prediction as the window fold reads it: the flat token columns back into TokenStats. */
export function scoredRowOf(p: PredictionRecord): ScoredRow {
  const tokenStats = p.tokens == null ? null : { count: p.tokens, truncated: !!p.truncated, fallback: p.fallbackTokens ?? 0 };
  return { text: p.text, label: p.label, probabilities: p.probabilities, embedding: p.embedding ?? null, tokenStats };
}

/**
 * The reference evaluation wrote for this version; a version evaluated before it did so has
 * only its predicted-label counts, so only label drift and the uncalibrated estimate apply.
 */
export async function readReference(store: ArtifactStore, runDir: string, labels: string[]): Promise<MonitoringReference> {
  const evaluation = JSON.parse((await store.get(`${artifactLayout.evaluation(runDir)}/evaluation.json`)).toString('utf8')) as EvaluationFile;
  if (evaluation.monitoringReference) return evaluation.monitoringReference;
  const counts = Object.fromEntries(labels.map((l) => [l, evaluation.predictedCounts[l] ?? 0]));
  const rows = Object.values(counts).reduce((s, x) => s + x, 0);
  return {
    summary: { rows, distinctTexts: rows, emptyTexts: 0, numeric: {}, labels: counts, confidence: [] },
    calibrator: { kind: 'identity', why: 'evaluated before monitoring kept a calibrator: raw confidence is used' },
    testAccuracy: evaluation.report.accuracy,
    testMacroF1: evaluation.report.macro_f1,
    estimatedTestAccuracy: null,
  };
}
