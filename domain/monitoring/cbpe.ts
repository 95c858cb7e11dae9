// Performance without labels: confidence-based performance estimation (CBPE, as NannyML has it).
// If the model's confidence is calibrated — right 80% of the time when it says 0.8 — then the
// mean calibrated confidence of a window is its expected accuracy, and the expected confusion
// matrix follows, so accuracy and macro-F1 can be estimated weeks before labels arrive. Pure.
//
// The calibrator maps the top-label confidence to the chance of being right (isotonic
// regression, fitted on the validation split at evaluation, kept only when it lowers the
// expected calibration error on the test split). Being a function of the confidence alone, it
// applies to the window's confidence histogram, so the estimate needs no row in the worker.
import { calibration } from '../calibration';
import { seededRandom } from '../random';
import type { ConfidenceCell, WindowSummary } from './features';

/** Piecewise-linear map from raw confidence to calibrated confidence; identity when not kept. */
export type Calibrator =
  | { kind: 'identity'; why: string }
  | {
      kind: 'isotonic';
      /** Increasing x (raw confidence) knots and their non-decreasing y; clipped above, as scikit-learn's out_of_bounds='clip'. */
      x: number[];
      y: number[];
      /**
       * Below the first knot, the line to (chance, chance): a model that spreads its probability
       * evenly over k labels is right 1/k of the time. Validation rarely has such rows, and
       * clipping would give a confused window the accuracy of the least confident validation rows.
       * Absent: clipped below too.
       */
      chance?: number;
      /** ECE on the test split before and after: why it was kept. */
      eceBefore: number;
      eceAfter: number;
    };

/**
 * Isotonic regression by pool-adjacent-violators, as scikit-learn's IsotonicRegression
 * (increasing, ties in x averaged first); returns the knots it interpolates between.
 */
export function fitIsotonic(xs: readonly number[], ys: readonly number[]): { x: number[]; y: number[] } {
  const order = xs.map((x, i) => [x, ys[i]!] as const).sort((a, b) => a[0] - b[0]);
  // Rows with the same x share one point, weighted by their count.
  const points: { x: number; y: number; w: number }[] = [];
  for (const [x, y] of order) {
    const last = points.at(-1);
    if (last && last.x === x) {
      last.y = (last.y * last.w + y) / (last.w + 1);
      last.w++;
    } else points.push({ x, y, w: 1 });
  }
  const blocks: { y: number; w: number; first: number; last: number }[] = [];
  points.forEach((p, i) => {
    blocks.push({ y: p.y, w: p.w, first: i, last: i });
    while (blocks.length > 1 && blocks.at(-2)!.y >= blocks.at(-1)!.y) {
      const b = blocks.pop()!;
      const a = blocks.at(-1)!;
      a.y = (a.y * a.w + b.y * b.w) / (a.w + b.w);
      a.w += b.w;
      a.last = b.last;
    }
  });
  // Knots: each block's first and last point, as scikit-learn keeps them (interior points are redundant).
  const x: number[] = [];
  const y: number[] = [];
  for (const b of blocks) {
    for (const i of b.first === b.last ? [b.first] : [b.first, b.last]) {
      x.push(points[i]!.x);
      y.push(b.y);
    }
  }
  return { x, y };
}

export function applyCalibrator(c: Calibrator, confidence: number): number {
  if (c.kind === 'identity') return confidence;
  const { x, y, chance } = c;
  if (confidence <= x[0]!) {
    if (chance === undefined || x[0]! <= chance || y[0]! <= chance) return y[0]!;
    if (confidence <= chance) return chance;
    return chance + ((confidence - chance) / (x[0]! - chance)) * (y[0]! - chance);
  }
  if (confidence >= x.at(-1)!) return y.at(-1)!;
  let lo = 0;
  let hi = x.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (x[mid]! <= confidence) lo = mid;
    else hi = mid;
  }
  const span = x[hi]! - x[lo]!;
  return span > 0 ? y[lo]! + ((confidence - x[lo]!) / span) * (y[hi]! - y[lo]!) : y[hi]!;
}

/**
 * Fits on the validation split, judges on the test split: isotonic is kept only when it lowers
 * the test split's ECE (10 bins, ../calibration.ts); otherwise the raw confidence is used.
 */
export function fitCalibrator(
  validation: { confidence: number; correct: boolean }[],
  test: { confidence: number; correct: boolean }[],
  labelCount: number,
): Calibrator {
  if (validation.length < 2) return { kind: 'identity', why: `${validation.length} validation rows: too few to fit a calibrator` };
  const fitted = fitIsotonic(
    validation.map((r) => r.confidence),
    validation.map((r) => (r.correct ? 1 : 0)),
  );
  const candidate: Calibrator = { kind: 'isotonic', ...fitted, chance: 1 / labelCount, eceBefore: 0, eceAfter: 0 };
  const correct = test.map((r) => r.correct);
  const eceBefore = calibration(
    test.map((r) => r.confidence),
    correct,
  ).ece;
  const eceAfter = calibration(
    test.map((r) => applyCalibrator(candidate, r.confidence)),
    correct,
  ).ece;
  if (!(eceAfter < eceBefore)) {
    return { kind: 'identity', why: `isotonic calibration did not lower the test split's ECE (${eceBefore.toFixed(4)} → ${eceAfter.toFixed(4)})` };
  }
  return { ...candidate, eceBefore, eceAfter };
}

export interface Estimate {
  value: number;
  /** 95% band from the window's own sampling error (NannyML's band is its sampling error too). */
  lower: number;
  upper: number;
}

export interface PerformanceEstimate {
  rows: number;
  accuracy: Estimate;
  macroF1: Estimate;
  /** Expected per-class F1, for the report's table. */
  perClassF1: Record<string, number>;
}

/**
 * F1 per class of the expected confusion matrix, given each cell's right rows. A cell's wrong
 * rows go to the other classes in proportion to the model's probabilities for them (the
 * cell's spread), as false negatives of those classes.
 */
class ConfusionModel {
  private readonly labelOf: Int32Array;
  private readonly share: Float64Array[];
  constructor(
    private readonly labels: readonly string[],
    private readonly cells: readonly ConfidenceCell[],
  ) {
    const index = new Map(labels.map((l, i) => [l, i]));
    this.labelOf = Int32Array.from(cells, (c) => index.get(c.label) ?? -1);
    this.share = cells.map((c) => {
      const others = labels.map((l) => (l === c.label ? 0 : (c.spread[l] ?? 0)));
      const total = others.reduce((s, x) => s + x, 0);
      return Float64Array.from(others, (x) => (total > 0 ? x / total : 0));
    });
  }

  f1(right: ArrayLike<number>): { macro: number; perClass: number[] } {
    const k = this.labels.length;
    const tp = new Float64Array(k);
    const fp = new Float64Array(k);
    const fn = new Float64Array(k);
    for (let i = 0; i < this.cells.length; i++) {
      const c = this.labelOf[i]!;
      if (c < 0) continue;
      const wrong = this.cells[i]!.rows - right[i]!;
      tp[c]! += right[i]!;
      fp[c]! += wrong;
      const share = this.share[i]!;
      for (let l = 0; l < k; l++) fn[l]! += wrong * share[l]!;
    }
    const perClass = Array.from({ length: k }, (_, l) => {
      const denominator = 2 * tp[l]! + fp[l]! + fn[l]!;
      return denominator > 0 ? (2 * tp[l]!) / denominator : 0;
    });
    return { macro: k ? perClass.reduce((s, x) => s + x, 0) / k : 0, perClass };
  }
}

function normal(random: () => number): number {
  // Box–Muller; 1 − u keeps the logarithm finite.
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/**
 * Expected accuracy and macro-F1 of a window. Accuracy: the mean calibrated confidence, with
 * the normal band of a sum of Bernoulli outcomes. Macro-F1: the F1 of the expected confusion
 * matrix, with a band from 200 seeded draws of each cell's number of right rows.
 */
export function estimatePerformance(
  summary: Pick<WindowSummary, 'confidence' | 'rows'>,
  labels: readonly string[],
  calibrator: Calibrator,
): PerformanceEstimate | null {
  const cells = summary.confidence.filter((c) => c.rows > 0);
  const rows = cells.reduce((s, c) => s + c.rows, 0);
  if (rows === 0) return null;
  const g = cells.map((c) => Math.min(1, Math.max(0, applyCalibrator(calibrator, c.confidence))));
  let expected = 0;
  let variance = 0;
  cells.forEach((c, i) => {
    expected += c.rows * g[i]!;
    variance += c.rows * g[i]! * (1 - g[i]!);
  });
  const accuracy = expected / rows;
  const half = (1.96 * Math.sqrt(variance)) / rows;
  const model = new ConfusionModel(labels, cells);
  const point = model.f1(cells.map((c, i) => c.rows * g[i]!));
  const random = seededRandom(20_240_601);
  const draws: number[] = [];
  const right = new Float64Array(cells.length);
  for (let d = 0; d < 200; d++) {
    cells.forEach((c, i) => {
      const mean = c.rows * g[i]!;
      right[i] = Math.min(c.rows, Math.max(0, mean + Math.sqrt(mean * (1 - g[i]!)) * normal(random)));
    });
    draws.push(model.f1(right).macro);
  }
  draws.sort((a, b) => a - b);
  return {
    rows,
    accuracy: { value: accuracy, lower: Math.max(0, accuracy - half), upper: Math.min(1, accuracy + half) },
    macroF1: { value: point.macro, lower: Math.min(point.macro, draws[5]!), upper: Math.max(point.macro, draws[194]!) },
    perClassF1: Object.fromEntries(labels.map((l, i) => [l, point.perClass[i]!])),
  };
}
