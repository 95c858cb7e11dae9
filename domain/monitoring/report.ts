// The monitoring report as stored (JSON beside the HTML page, and in the registry's
// monitoring_reports), and the one-line summary the CLI's trend view and `mlc status` read from
// it. Reports written before this schema lack most fields; the summary reads them as unknown.
import type { LabelDriftReport } from '../drift';
import type { Calibrator, Estimate, PerformanceEstimate } from './cbpe';
import type { PastWindow, RetrainDecision } from './decision';
import type { FeatureDrift } from './drift-tests';
import type { EmbeddingDrift } from './embedding-drift';
import { INPUT_FEATURES, type WindowSummary } from './features';
import { histogramOf, type Histogram } from './stats';

export const MONITORING_REPORT_SCHEMA = 'mlc.monitoring-report/2';

export interface FeedbackBasis {
  joinedByRequestId: number;
  rescored: number;
  unmatchedRequestIds: number;
  ambiguousRequestIds: number;
}

/** A drifted feature's two distributions, coarsened for the page's plot. */
export interface FeaturePlot {
  feature: string;
  title: string;
  unit: string;
  type: 'numeric' | 'categorical';
  /** Numeric: bin centres; categorical: category names. */
  categories: string[];
  reference: number[];
  current: number[];
}

/** A past window's headline figures, for the trend chart. */
export interface TrendPoint {
  windowEnd: string;
  version: number;
  predictions: number;
  estimatedAccuracy: number | null;
  realizedAccuracy: number | null;
  drifted: number;
  breached: boolean;
  degraded: boolean;
}

export interface MonitoringReport {
  schema: typeof MONITORING_REPORT_SCHEMA;
  model: string;
  version: number;
  windowStart: string;
  windowEnd: string;
  /** Where the predictions came from: the registry (local endpoint) or Azure ML's request log. */
  source: 'registry' | 'azureml-request-log';
  predictions: number;
  feedback: number;
  feedbackBasis: FeedbackBasis;
  /** Anything judged (enough predictions or labelled feedback); drift needs enough predictions. */
  judged: boolean;
  driftJudged: boolean;
  /** This window crossed a threshold... */
  breached: boolean;
  /** ...and enough windows in a row did: the monitor asks for a retrain. */
  degraded: boolean;
  decision: RetrainDecision;
  /** What the workflow passes on: the fired tests and the decision, or why nothing fired. */
  reasons: string[];
  firedBy: string[];
  notes: string[];
  multipleTesting: 'Benjamini–Hochberg (false-discovery rate 5%)';
  features: FeatureDrift[];
  /** Drift of the encoder's representation (domain classifier and MMD); null when not judged. Absent before it existed. */
  embedding?: EmbeddingDrift | null;
  movedMost: string | null;
  /** Predicted-label drift against the spec's PSI threshold, as before this schema. */
  drift: LabelDriftReport | null;
  performance: {
    estimated: PerformanceEstimate | null;
    /** Accuracy and macro-F1 on labelled feedback since the deployment (not only this window). */
    realized: { accuracy: number; macroF1: number; rows: number } | null;
    threshold: number;
    calibrator: Pick<Calibrator, 'kind'> & { eceBefore?: number; eceAfter?: number; why?: string };
    reference: { testAccuracy: number; estimatedTestAccuracy: number | null };
  };
  feedbackAccuracy: number | null;
  inputs: { duplicateRate: number; referenceDuplicateRate: number; emptyTexts: number };
  plots: FeaturePlot[];
  trend: TrendPoint[];
  thresholds: Record<string, unknown>;
}

const NUMERIC_PLOT_BINS = 24;

/** Reference and current share per bin, over equal-width bins spanning both samples. */
export function numericPlot(
  feature: Omit<FeaturePlot, 'type' | 'categories' | 'reference' | 'current'>,
  reference: Histogram,
  current: Histogram,
): FeaturePlot {
  const all = [...reference, ...current].map(([v]) => v);
  const lo = Math.min(...all);
  const hi = Math.max(...all);
  const width = (hi - lo) / NUMERIC_PLOT_BINS || 1;
  const bins = hi > lo ? NUMERIC_PLOT_BINS : 1;
  const shares = (h: Histogram) => {
    const out = new Array<number>(bins).fill(0);
    const n = h.reduce((s, [, c]) => s + c, 0) || 1;
    for (const [v, c] of h) out[Math.min(bins - 1, Math.floor((v - lo) / width))]! += c / n;
    return out;
  };
  const decimals = width >= 10 ? 0 : width >= 1 ? 1 : width >= 0.1 ? 2 : 3;
  return {
    ...feature,
    type: 'numeric',
    categories: Array.from({ length: bins }, (_, b) => (lo + (b + 0.5) * width).toFixed(decimals)),
    reference: shares(reference),
    current: shares(current),
  };
}

export function categoricalPlot(
  feature: Omit<FeaturePlot, 'type' | 'categories' | 'reference' | 'current'>,
  reference: Record<string, number>,
  current: Record<string, number>,
): FeaturePlot {
  const categories = [...new Set([...Object.keys(reference), ...Object.keys(current)])].sort();
  const share = (c: Record<string, number>) => {
    const n = Object.values(c).reduce((s, x) => s + x, 0) || 1;
    return categories.map((k) => (c[k] ?? 0) / n);
  };
  return { ...feature, type: 'categorical', categories, reference: share(reference), current: share(current) };
}

/** A stored report (any schema) as a trend point and a past window for the retrain decision. */
export function readStoredReport(stored: {
  reportKey: string;
  version: number;
  windowStart: string;
  windowEnd: string;
  degraded: boolean;
  report: Record<string, unknown>;
}): PastWindow & TrendPoint & { estimated: Estimate | null; movedMost: string | null } {
  const r = stored.report as Partial<MonitoringReport> & { feedbackAccuracy?: number | null; reasons?: string[] };
  const current = r.schema === MONITORING_REPORT_SCHEMA;
  const estimated = current ? (r.performance?.estimated?.accuracy ?? null) : null;
  return {
    reportKey: stored.reportKey,
    version: stored.version,
    windowStart: stored.windowStart,
    windowEnd: stored.windowEnd,
    // Before this schema a report had no notion of a window that could not be judged: take it as judged.
    judged: current ? !!r.judged : true,
    driftJudged: current ? !!r.driftJudged : false,
    breached: current ? !!r.breached : stored.degraded,
    degraded: stored.degraded,
    predictions: typeof r.predictions === 'number' ? r.predictions : 0,
    estimatedAccuracy: estimated?.value ?? null,
    estimated,
    realizedAccuracy: current ? (r.performance?.realized?.accuracy ?? null) : (r.feedbackAccuracy ?? null),
    drifted: current ? (r.features ?? []).filter((f) => f.drifted).length : 0,
    movedMost: current ? (r.movedMost ?? null) : null,
  };
}

export function trendPoint(p: TrendPoint): TrendPoint {
  const { windowEnd, version, predictions, estimatedAccuracy, realizedAccuracy, drifted, breached, degraded } = p;
  return { windowEnd, version, predictions, estimatedAccuracy, realizedAccuracy, drifted, breached, degraded };
}

/** A plot per drifted feature, reference against current, and one of the embeddings when they drifted. */
export function driftPlots(features: FeatureDrift[], reference: WindowSummary, current: WindowSummary, embedding?: EmbeddingDrift | null): FeaturePlot[] {
  const plots = features
    .filter((f) => f.drifted)
    .map((f) => {
      const meta = { feature: f.feature, title: f.title, unit: unitOf(f.feature) };
      return f.type === 'categorical'
        ? categoricalPlot(meta, reference.labels, current.labels)
        : numericPlot(meta, reference.numeric[f.feature] ?? [], current.numeric[f.feature] ?? []);
    });
  if (embedding?.drifted && reference.embeddings && current.embeddings) plots.push(embeddingPlot(reference.embeddings, current.embeddings));
  return plots;
}

/**
 * Embeddings have too many dimensions to plot one by one: both samples are projected on the
 * line through their two means, the direction along which they differ most on average.
 */
export function embeddingPlot(reference: number[][], current: number[][]): FeaturePlot {
  const mean = (rows: number[][]) => rows[0]!.map((_, k) => rows.reduce((s, r) => s + r[k]!, 0) / rows.length);
  const [mr, mc] = [mean(reference), mean(current)];
  const direction = mc.map((v, k) => v - mr[k]!);
  const norm = Math.hypot(...direction) || 1;
  const along = (rows: number[][]): Histogram =>
    histogramOf(rows.map((r) => [Math.round((r.reduce((s, v, k) => s + (v - mr[k]!) * direction[k]!, 0) / norm) * 1000) / 1000, 1] as [number, number]));
  return numericPlot(
    { feature: 'embedding', title: 'encoder embedding, along the line between the two means', unit: 'distance from the reference mean' },
    along(reference),
    along(current),
  );
}

function unitOf(feature: string): string {
  return INPUT_FEATURES.find((f) => f.id === feature)?.unit ?? (feature === 'entropy' ? 'nats' : 'probability');
}

/** One run as `mlc monitor --history` and `mlc status` list it. */
export type MonitoringRunSummary = ReturnType<typeof readStoredReport> & {
  createdAt: string;
  /** The page beside the JSON; null for reports written before pages existed. */
  pageKey: string | null;
  /** The first reasons: what fired, or what was measured. */
  reasons: string[];
};

export function summarizeStoredReport(stored: Parameters<typeof readStoredReport>[0] & { createdAt: string }): MonitoringRunSummary {
  const reasons = stored.report.reasons;
  return {
    ...readStoredReport(stored),
    createdAt: stored.createdAt,
    pageKey: stored.report.schema === MONITORING_REPORT_SCHEMA ? stored.reportKey.replace(/\.json$/, '.html') : null,
    reasons: Array.isArray(reasons) ? (reasons as unknown[]).slice(0, 5).map(String) : [],
  };
}
