// Drift of the encoder's representation, by the two tests Evidently and alibi-detect use for
// text: a domain classifier (can a simple model tell reference rows from current ones? its
// held-out ROC AUC) and maximum mean discrepancy with a Gaussian kernel and a permutation test.
// Inputs are the fixed random projections the scorer logs with each prediction
// (domain/embedding-projection.ts), sampled to a bounded size by the caller. Pure and seeded:
// the same samples and seed give the same figures.
import { DriftInputError } from '../drift';
import { seededRandom, shuffle } from '../random';

export type Vectors = readonly (readonly number[])[];

export interface EmbeddingDriftOptions {
  /** Evidently's default for text: a domain classifier AUC above this is drift. */
  auc: number;
  /** Below this many rows a side, the AUC must also beat the 95th percentile of AUCs on shuffled labels. */
  smallSample: number;
  /** Label shuffles for that baseline: each refits the classifier twice, so few (40 lets p reach 1/41). */
  shuffles: number;
  /** Permutations for MMD's p-value (cheap: the kernel matrix is computed once). */
  permutations: number;
  /** MMD's permutation p-value below this is drift. */
  alpha: number;
  seed: number;
}

export const DEFAULT_EMBEDDING_DRIFT_OPTIONS: EmbeddingDriftOptions = { auc: 0.55, smallSample: 1000, shuffles: 40, permutations: 100, alpha: 0.05, seed: 17 };

export interface EmbeddingDrift {
  referenceRows: number;
  currentRows: number;
  dimensions: number;
  /** Held-out ROC AUC of a logistic regression telling current (1) from reference (0), 2-fold. */
  auc: number;
  /** The AUC a drifted window must exceed (`auc` of the options). */
  aucThreshold: number;
  /**
   * On small samples, the permutation p-value of the AUC: the share of label shuffles whose
   * AUC reached it (drift needs it below `alpha` too), and the shuffles' 95th percentile, shown.
   */
  aucP?: number;
  aucBaseline95?: number;
  /** Unbiased MMD² with a Gaussian kernel whose bandwidth is the median pairwise distance. */
  mmd2: number;
  mmdP: number;
  bandwidth: number;
  /** Drift when the domain classifier separates the two (the decision); MMD is shown beside it. */
  drifted: boolean;
}

/** Mann–Whitney ROC AUC: the chance a random positive scores above a random negative, ties half. */
export function rocAuc(scores: readonly number[], labels: readonly (0 | 1)[]): number {
  if (scores.length !== labels.length) throw new DriftInputError(`rocAuc: ${scores.length} scores but ${labels.length} labels`);
  const order = scores.map((s, i) => [s, labels[i]!] as const).sort((a, b) => a[0] - b[0]);
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j < order.length && order[j]![0] === order[i]![0]) j++;
    const midRank = (i + 1 + j) / 2; // ranks i+1..j share their mean
    for (let k = i; k < j; k++) {
      if (order[k]![1] !== 1) continue;
      positives++;
      rankSum += midRank;
    }
    i = j;
  }
  const negatives = order.length - positives;
  if (!positives || !negatives) throw new DriftInputError('rocAuc needs both classes');
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** L2-regularised logistic regression by full-batch gradient descent on standardised features; returns a scorer. */
function fitLogistic(x: Vectors, y: readonly (0 | 1)[], { epochs = 200, rate = 0.5, l2 = 1e-3 } = {}): (row: readonly number[]) => number {
  const d = x[0]!.length;
  const mean = new Array<number>(d).fill(0);
  const sd = new Array<number>(d).fill(0);
  for (const row of x) for (let k = 0; k < d; k++) mean[k]! += row[k]! / x.length;
  for (const row of x) for (let k = 0; k < d; k++) sd[k]! += (row[k]! - mean[k]!) ** 2 / x.length;
  for (let k = 0; k < d; k++) sd[k] = Math.sqrt(sd[k]!) || 1;
  const z = x.map((row) => row.map((v, k) => (v - mean[k]!) / sd[k]!));
  const w = new Array<number>(d).fill(0);
  let b = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    const gw = new Array<number>(d).fill(0);
    let gb = 0;
    for (let i = 0; i < z.length; i++) {
      const row = z[i]!;
      let t = b;
      for (let k = 0; k < d; k++) t += w[k]! * row[k]!;
      const err = 1 / (1 + Math.exp(-t)) - y[i]!;
      for (let k = 0; k < d; k++) gw[k]! += err * row[k]!;
      gb += err;
    }
    for (let k = 0; k < d; k++) w[k]! -= rate * (gw[k]! / z.length + l2 * w[k]!);
    b -= (rate * gb) / z.length;
  }
  return (row) => {
    let t = b;
    for (let k = 0; k < d; k++) t += (w[k]! * (row[k]! - mean[k]!)) / sd[k]!;
    return t;
  };
}

/** Two-fold held-out AUC of the domain classifier on rows labelled 0 (reference) / 1 (current). */
function heldOutAuc(rows: Vectors, labels: readonly (0 | 1)[], rand: () => number): number {
  const order = shuffle(
    rows.map((_, i) => i),
    rand,
  );
  const folds = [order.filter((_, i) => i % 2 === 0), order.filter((_, i) => i % 2 === 1)];
  const scores = new Array<number>(rows.length);
  for (const [train, test] of [folds, [folds[1]!, folds[0]!]] as const) {
    const score = fitLogistic(
      train.map((i) => rows[i]!),
      train.map((i) => labels[i]!),
    );
    for (const i of test) scores[i] = score(rows[i]!);
  }
  return rocAuc(scores, labels);
}

function checkVectors(name: string, v: Vectors, d?: number): number {
  if (v.length < 10) throw new DriftInputError(`embedding drift: the ${name} sample has ${v.length} rows; at least 10 are needed`);
  const dims = d ?? v[0]!.length;
  for (const row of v) {
    if (row.length !== dims) throw new DriftInputError(`embedding drift: ${name} rows have ${row.length} and ${dims} dimensions; log them with one projection`);
    for (const x of row) if (!Number.isFinite(x)) throw new DriftInputError(`embedding drift: a ${name} row holds ${x}`);
  }
  return dims;
}

const squaredDistance = (a: readonly number[], b: readonly number[]) => {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += (a[k]! - b[k]!) ** 2;
  return s;
};

/** Unbiased MMD² of the groups given by `inCurrent`, from a precomputed kernel matrix. */
function mmd2Of(kernel: Float64Array, n: number, inCurrent: readonly boolean[]): number {
  let xx = 0;
  let yy = 0;
  let xy = 0;
  let nx = 0;
  for (let i = 0; i < n; i++) if (!inCurrent[i]) nx++;
  const ny = n - nx;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const k = kernel[i * n + j]!;
      if (inCurrent[i] !== inCurrent[j]) xy += k;
      else if (inCurrent[i]) yy += k;
      else xx += k;
    }
  }
  return (2 * xx) / (nx * (nx - 1)) + (2 * yy) / (ny * (ny - 1)) - (2 * xy) / (nx * ny);
}

/** MMD² with a Gaussian kernel (median-distance bandwidth) and its permutation p-value. */
export function mmdTest(reference: Vectors, current: Vectors, permutations = 100, seed = 17): { mmd2: number; p: number; bandwidth: number } {
  const rows = [...reference, ...current];
  const n = rows.length;
  const distances = new Float64Array(n * n);
  const upper: number[] = [];
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      const d2 = squaredDistance(rows[i]!, rows[j]!);
      distances[i * n + j] = d2;
      upper.push(d2);
    }
  upper.sort((a, b) => a - b);
  // The median heuristic: a kernel width on the scale of typical distances, whatever the units.
  const median = upper[Math.floor(upper.length / 2)]!;
  const bandwidth = Math.sqrt(median / 2) || 1;
  const kernel = distances.map((d2) => Math.exp(-d2 / (2 * bandwidth * bandwidth)));
  const groups = rows.map((_, i) => i >= reference.length);
  const observed = mmd2Of(kernel, n, groups);
  const rand = seededRandom(seed);
  let atLeast = 0;
  for (let p = 0; p < permutations; p++) if (mmd2Of(kernel, n, shuffle([...groups], rand)) >= observed) atLeast++;
  return { mmd2: observed, p: (atLeast + 1) / (permutations + 1), bandwidth };
}

/** Both tests on bounded samples of reference and current embeddings. */
export function embeddingDrift(reference: Vectors, current: Vectors, options: EmbeddingDriftOptions = DEFAULT_EMBEDDING_DRIFT_OPTIONS): EmbeddingDrift {
  const dimensions = checkVectors('reference', reference);
  checkVectors('current', current, dimensions);
  const rows = [...reference, ...current];
  const labels = rows.map((_, i): 0 | 1 => (i < reference.length ? 0 : 1));
  const rand = seededRandom(options.seed);
  const auc = heldOutAuc(rows, labels, rand);
  let baseline: { aucP: number; aucBaseline95: number } | undefined;
  if (Math.min(reference.length, current.length) < options.smallSample) {
    // A classifier finds some pattern in any small sample: drift only when it beats what it
    // finds in shuffled labels.
    const shuffled = Array.from({ length: options.shuffles }, () => heldOutAuc(rows, shuffle([...labels], rand), rand)).sort((a, b) => a - b);
    baseline = {
      aucP: (1 + shuffled.filter((a) => a >= auc).length) / (shuffled.length + 1),
      aucBaseline95: shuffled[Math.ceil(0.95 * shuffled.length) - 1]!,
    };
  }
  const mmd = mmdTest(reference, current, options.permutations, options.seed);
  return {
    referenceRows: reference.length,
    currentRows: current.length,
    dimensions,
    auc,
    aucThreshold: options.auc,
    ...baseline,
    mmd2: mmd.mmd2,
    mmdP: mmd.p,
    bandwidth: mmd.bandwidth,
    drifted: auc > options.auc && (!baseline || baseline.aucP < options.alpha),
  };
}
