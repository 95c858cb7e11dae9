// Classification metrics for evaluation, audit packages and gates. Pure: no I/O, no clock,
// no Math.random (the bootstrap takes a seed), so a workflow may import it.
//
// Conventions follow scikit-learn's classification_report with an explicit `labels` list and
// zero_division=0: every listed label counts in the macro averages, even one never predicted
// (precision 0/0 → 0) or absent from the truth (recall 0/0 → 0, support 0). An auditor then
// sees a class the model ignores as a drag on macro F1 rather than as a silently missing row.
import type { MetricName } from './spec';
import { seededRandom } from './random';

export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  /** Rows whose true label is this class. */
  support: number;
}

export interface ClassificationReport {
  accuracy: number;
  macro_precision: number;
  macro_recall: number;
  macro_f1: number;
  perClass: Record<string, ClassMetrics>;
  /** confusion[i][j]: rows whose truth is labels[i] and prediction labels[j]. */
  confusion: number[][];
  /** The labels, in the order of the confusion matrix's rows and columns. */
  labels: string[];
  n: number;
}

export class MetricsInputError extends Error {
  override name = 'MetricsInputError';
  constructor(
    message: string,
    readonly detail: { label?: string; index?: number } = {},
  ) {
    super(message);
  }
}

/** a / b, with 0/0 (and x/0) taken as 0 — scikit-learn's zero_division=0. */
function ratio(a: number, b: number): number {
  return b === 0 ? 0 : a / b;
}

function mean(xs: number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((s, x) => s + x, 0) / xs.length;
}

/** Map labels to indices once; refuses labels outside `labels`, naming the row. */
function encode(labels: string[], truth: string[], predicted: string[]): { t: Int32Array; p: Int32Array } {
  if (new Set(labels).size !== labels.length) throw new MetricsInputError('labels must be unique');
  if (truth.length !== predicted.length) {
    throw new MetricsInputError(`truth has ${truth.length} rows but predicted has ${predicted.length}; they must be paired row by row`);
  }
  const index = new Map(labels.map((l, i) => [l, i]));
  const t = new Int32Array(truth.length);
  const p = new Int32Array(truth.length);
  for (let i = 0; i < truth.length; i++) {
    const ti = index.get(truth[i]!);
    const pi = index.get(predicted[i]!);
    if (ti === undefined)
      throw new MetricsInputError(`truth[${i}] is "${truth[i]}", not one of the labels [${labels.join(', ')}]`, { label: truth[i]!, index: i });
    if (pi === undefined)
      throw new MetricsInputError(`predicted[${i}] is "${predicted[i]}", not one of the labels [${labels.join(', ')}]`, { label: predicted[i]!, index: i });
    t[i] = ti;
    p[i] = pi;
  }
  return { t, p };
}

function reportFromIndices(labels: string[], t: ArrayLike<number>, p: ArrayLike<number>, rows: ArrayLike<number> | null): ClassificationReport {
  const k = labels.length;
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const n = rows ? rows.length : t.length;
  let correct = 0;
  for (let r = 0; r < n; r++) {
    const i = rows ? rows[r]! : r;
    const ti = t[i]!;
    const pi = p[i]!;
    confusion[ti]![pi]! += 1;
    if (ti === pi) correct++;
  }
  const perClass: Record<string, ClassMetrics> = {};
  const ps: number[] = [];
  const rs: number[] = [];
  const fs: number[] = [];
  for (let c = 0; c < k; c++) {
    const tp = confusion[c]![c]!;
    let predictedAs = 0;
    let support = 0;
    for (let o = 0; o < k; o++) {
      predictedAs += confusion[o]![c]!;
      support += confusion[c]![o]!;
    }
    const precision = ratio(tp, predictedAs);
    const recall = ratio(tp, support);
    const f1 = ratio(2 * precision * recall, precision + recall);
    perClass[labels[c]!] = { precision, recall, f1, support };
    ps.push(precision);
    rs.push(recall);
    fs.push(f1);
  }
  return {
    accuracy: ratio(correct, n),
    macro_precision: mean(ps),
    macro_recall: mean(rs),
    // The mean of per-class F1 (scikit-learn's macro F1), not the F1 of the macro means.
    macro_f1: mean(fs),
    perClass,
    confusion,
    labels: [...labels],
    n,
  };
}

/**
 * Accuracy, macro precision/recall/F1, per-class metrics and the confusion matrix over
 * `labels` (which fixes the matrix order). Any ratio with a zero denominator is 0, so an
 * empty input gives all zeros and n = 0.
 */
export function classificationReport(labels: string[], truth: string[], predicted: string[]): ClassificationReport {
  const { t, p } = encode(labels, truth, predicted);
  return reportFromIndices(labels, t, p, null);
}

export function metricValue(report: ClassificationReport, metric: MetricName): number {
  const value: unknown = report[metric];
  // MetricName is a compile-time promise; gates also arrive as JSON from specs and signals.
  if (typeof value !== 'number')
    throw new MetricsInputError(`unknown metric "${String(metric)}"; use one of accuracy, macro_f1, macro_precision, macro_recall`);
  return value;
}

/** Linear-interpolated quantile of sorted values (numpy's default method). */
function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export interface BootstrapOptions {
  /** Resamples; 1000 by default. */
  iterations?: number;
  /** PRNG seed; the same seed gives the same interval. 0 by default. */
  seed?: number;
  /** 1 - confidence level; 0.05 (a 95% interval) by default. */
  alpha?: number;
}

export interface ConfidenceInterval {
  metric: MetricName;
  /** The metric on the full sample. */
  value: number;
  lower: number;
  upper: number;
  alpha: number;
  iterations: number;
  seed: number;
}

/**
 * Percentile-bootstrap confidence interval of one metric: resample rows with replacement
 * `iterations` times, compute the metric on each resample, take the alpha/2 and 1-alpha/2
 * quantiles. Deterministic for a given seed, so a replayed workflow gets the same interval.
 */
export function bootstrapCI(labels: string[], truth: string[], predicted: string[], metric: MetricName, options: BootstrapOptions = {}): ConfidenceInterval {
  const { iterations, seed, alpha } = checkOptions(options);
  const { t, p } = encode(labels, truth, predicted);
  const value = metricValue(reportFromIndices(labels, t, p, null), metric);
  const values: number[] = [];
  if (t.length > 0) eachResample(t.length, iterations, seed, (rows) => values.push(metricValue(reportFromIndices(labels, t, p, rows), metric)));
  return { metric, ...percentiles(value, values, alpha), alpha, iterations, seed };
}

export interface Interval {
  value: number;
  lower: number;
  upper: number;
}

export interface ClassIntervals {
  precision: Interval;
  recall: Interval;
  f1: Interval;
}

export interface ReportIntervals {
  /** Accuracy and the macro averages; each equals bootstrapCI's for the same options. */
  metrics: Record<MetricName, ConfidenceInterval>;
  /** Precision, recall and F1 of each label, from the same resamples. */
  perClass: Record<string, ClassIntervals>;
}

const reportMetrics: readonly MetricName[] = ['accuracy', 'macro_f1', 'macro_precision', 'macro_recall'];
const classMetrics = ['precision', 'recall', 'f1'] as const;

function checkOptions(options: BootstrapOptions): { iterations: number; seed: number; alpha: number } {
  const iterations = options.iterations ?? 1000;
  const seed = options.seed ?? 0;
  const alpha = options.alpha ?? 0.05;
  if (!Number.isInteger(iterations) || iterations < 1) throw new MetricsInputError(`iterations must be a positive integer, got ${iterations}`);
  if (!(alpha > 0 && alpha < 1)) throw new MetricsInputError(`alpha must be between 0 and 1, got ${alpha}`);
  return { iterations, seed, alpha };
}

/** Draws the same resamples as bootstrapCI (same seed, same rows), handing each to `visit`. */
function eachResample(n: number, iterations: number, seed: number, visit: (rows: Int32Array) => void): void {
  const random = seededRandom(seed);
  const rows = new Int32Array(n);
  for (let it = 0; it < iterations; it++) {
    for (let r = 0; r < n; r++) rows[r] = Math.floor(random() * n);
    visit(rows);
  }
}

function percentiles(value: number, samples: number[], alpha: number, empty: Interval = { value, lower: 0, upper: 0 }): Interval {
  if (samples.length === 0) return empty;
  const sorted = [...samples].sort((a, b) => a - b);
  return { value, lower: quantile(sorted, alpha / 2), upper: quantile(sorted, 1 - alpha / 2) };
}

/**
 * Intervals for every metric of the report at once — accuracy, macro precision, recall and
 * F1, and each label's precision, recall and F1 — from one set of resamples, so an auditor
 * sees how uncertain a class's recall is, not only the headline number. A class's interval
 * uses the resamples where its metric is defined (recall: the class occurs; precision: it is
 * predicted); a metric never defined gets the zero-width interval at its value.
 */
export function bootstrapReport(labels: string[], truth: string[], predicted: string[], options: BootstrapOptions = {}): ReportIntervals {
  const { iterations, seed, alpha } = checkOptions(options);
  const { t, p } = encode(labels, truth, predicted);
  const full = reportFromIndices(labels, t, p, null);
  const samples = new Map<string, number[]>();
  const push = (key: string, x: number) => {
    const xs = samples.get(key);
    if (xs) xs.push(x);
    else samples.set(key, [x]);
  };
  if (t.length > 0) {
    eachResample(t.length, iterations, seed, (rows) => {
      const r = reportFromIndices(labels, t, p, rows);
      for (const m of reportMetrics) push(m, r[m]);
      labels.forEach((l, i) => {
        const c = r.perClass[l]!;
        const predictedAs = r.confusion.reduce((sum, row) => sum + row[i]!, 0);
        // A resample without the class says nothing about it: skip it rather than count the
        // 0/0 as 0, which would drag a rare class's interval towards zero.
        if (c.support > 0) push(`${l}\u0000recall`, c.recall);
        if (predictedAs > 0) push(`${l}\u0000precision`, c.precision);
        if (c.support > 0 || predictedAs > 0) push(`${l}\u0000f1`, c.f1);
      });
    });
  }
  const metrics = Object.fromEntries(
    reportMetrics.map((m) => [m, { metric: m, ...percentiles(full[m], samples.get(m) ?? [], alpha), alpha, iterations, seed }]),
  ) as Record<MetricName, ConfidenceInterval>;
  const perClass = Object.fromEntries(
    labels.map((l) => [
      l,
      Object.fromEntries(
        classMetrics.map((c) => {
          const value = full.perClass[l]![c];
          return [c, percentiles(value, samples.get(`${l}\u0000${c}`) ?? [], alpha, { value, lower: value, upper: value })];
        }),
      ) as unknown as ClassIntervals,
    ]),
  );
  return { metrics, perClass };
}

/**
 * Paired bootstrap of candidate minus baseline on the same rows: both predictions are
 * resampled together, so the interval is about the difference between the two models, not
 * about the rows. An interval that excludes 0 is a difference the test split supports.
 */
export function bootstrapDifference(
  labels: string[],
  truth: string[],
  baseline: string[],
  candidate: string[],
  metric: MetricName,
  options: BootstrapOptions = {},
): Interval {
  const { iterations, seed, alpha } = checkOptions(options);
  const a = encode(labels, truth, baseline);
  const b = encode(labels, truth, candidate);
  const delta = (rows: Int32Array | null) =>
    metricValue(reportFromIndices(labels, b.t, b.p, rows), metric) - metricValue(reportFromIndices(labels, a.t, a.p, rows), metric);
  const samples: number[] = [];
  if (a.t.length > 0) eachResample(a.t.length, iterations, seed, (rows) => samples.push(delta(rows)));
  return percentiles(delta(null), samples, alpha);
}

export interface Gate {
  metric: MetricName;
  min: number;
}

export interface GateResult extends Gate {
  value: number;
  passed: boolean;
}

/** Every gate must hold (value >= min); no gates means passed. */
export function checkGates(report: ClassificationReport, gates: readonly Gate[]): { passed: boolean; results: GateResult[] } {
  const results = gates.map((g) => {
    const value = metricValue(report, g.metric);
    return { metric: g.metric, min: g.min, value, passed: value >= g.min };
  });
  return { passed: results.every((r) => r.passed), results };
}
