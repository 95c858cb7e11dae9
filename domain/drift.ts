// Drift tests for categorical distributions (predicted labels, feedback labels). Pure.
//
// Evidently's defaults are the reference: PSI with 0.1 moderate / 0.25 major and empty bins
// set to 0.0001; chi-square goodness of fit (p < 0.05) for samples of up to 1000 rows and
// Jensen-Shannon distance (natural log, ≥ 0.1) above that, because a chi-square test on a
// large sample calls every trivial wobble significant. Each report says which test fired
// and why, in sentences a data analyst can act on.

export type Counts = Record<string, number>;

export class DriftInputError extends Error {
  override name = 'DriftInputError';
}

function categories(a: Counts, b: Counts): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
}

function total(counts: Counts, which: string): number {
  let sum = 0;
  for (const [k, v] of Object.entries(counts)) {
    if (!Number.isFinite(v) || v < 0) throw new DriftInputError(`${which} count for "${k}" is ${v}; counts must be finite and non-negative`);
    sum += v;
  }
  if (sum === 0) throw new DriftInputError(`${which} distribution is empty; drift needs at least one observation on each side`);
  return sum;
}

function proportions(counts: Counts, keys: string[], which: string): number[] {
  const n = total(counts, which);
  return keys.map((k) => (counts[k] ?? 0) / n);
}

/**
 * Population stability index of two categorical distributions given as counts:
 * Σ (actual − expected) · ln(actual / expected) over proportions, where an empty bin's
 * proportion is replaced by `epsilon` (Evidently: 0.0001) so the log stays finite.
 * 0 means identical; ≥ 0.1 moderate, ≥ 0.25 major shift.
 */
export function psi(expected: Counts, actual: Counts, options: { epsilon?: number } = {}): number {
  const epsilon = options.epsilon ?? 1e-4;
  if (!(epsilon > 0)) throw new DriftInputError(`epsilon must be positive, got ${epsilon}`);
  const keys = categories(expected, actual);
  const e = proportions(expected, keys, 'expected');
  const a = proportions(actual, keys, 'actual');
  let sum = 0;
  for (let i = 0; i < keys.length; i++) {
    const ei = e[i] || epsilon;
    const ai = a[i] || epsilon;
    sum += (ai - ei) * Math.log(ai / ei);
  }
  return sum;
}

export function psiLevel(value: number): 'none' | 'moderate' | 'major' {
  return value >= 0.25 ? 'major' : value >= 0.1 ? 'moderate' : 'none';
}

/**
 * Jensen-Shannon distance (the square root of the divergence) between two count
 * distributions, natural log as in scipy.spatial.distance.jensenshannon, so it lies in
 * [0, √ln 2 ≈ 0.833]; pass base 2 for [0, 1]. Empty bins need no smoothing (0·ln 0 = 0).
 */
export function jensenShannonDistance(reference: Counts, current: Counts, options: { base?: number } = {}): number {
  const keys = categories(reference, current);
  const p = proportions(reference, keys, 'reference');
  const q = proportions(current, keys, 'current');
  let divergence = 0;
  for (let i = 0; i < keys.length; i++) {
    const m = (p[i]! + q[i]!) / 2;
    if (p[i]! > 0) divergence += 0.5 * p[i]! * Math.log(p[i]! / m);
    if (q[i]! > 0) divergence += 0.5 * q[i]! * Math.log(q[i]! / m);
  }
  if (options.base !== undefined) divergence /= Math.log(options.base);
  // Rounding can leave a tiny negative divergence for identical inputs.
  return Math.sqrt(Math.max(0, divergence));
}

// Lanczos approximation (g = 7, n = 9): ln Γ(x) to about 15 significant digits for x > 0.
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012,
  9.9843695780195716e-6, 1.5056327351493116e-7,
];

export function lnGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lnGamma(1 - x);
  const z = x - 1;
  let s = LANCZOS[0]!;
  for (let i = 1; i < 9; i++) s += LANCZOS[i]! / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(s);
}

/**
 * Regularized upper incomplete gamma Q(a, x) = Γ(a, x) / Γ(a): a series below x < a + 1,
 * Lentz's continued fraction above (Numerical Recipes, gser/gcf); relative error ~1e-14.
 */
export function regularizedGammaQ(a: number, x: number): number {
  if (!(a > 0) || x < 0 || Number.isNaN(x)) throw new DriftInputError(`regularizedGammaQ needs a > 0 and x ≥ 0, got a=${a}, x=${x}`);
  if (x === 0) return 1;
  if (x === Infinity) return 0;
  const logPrefix = a * Math.log(x) - x - lnGamma(a);
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 10_000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-16) break;
    }
    return Math.max(0, 1 - sum * Math.exp(logPrefix));
  }
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 10_000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(logPrefix) * h;
}

/** P(X ≥ x) for X ~ χ²(df). */
export function chiSquareSurvival(x: number, df: number): number {
  return regularizedGammaQ(df / 2, x / 2);
}

export interface ChiSquareResult {
  statistic: number;
  df: number;
  p: number;
}

/**
 * Chi-square goodness of fit of the current counts against the reference proportions
 * scaled to the current total (Evidently's chisquare_stat_test). A category the reference
 * never saw but the current has makes the statistic infinite (p = 0); with a single
 * category there is nothing to test (df 0, p = 1).
 */
export function chiSquareTest(reference: Counts, current: Counts): ChiSquareResult {
  const keys = categories(reference, current);
  const nRef = total(reference, 'reference');
  const nCur = total(current, 'current');
  let statistic = 0;
  for (const k of keys) {
    const expected = ((reference[k] ?? 0) * nCur) / nRef;
    const observed = current[k] ?? 0;
    if (expected === 0) {
      if (observed > 0) statistic = Infinity;
      continue;
    }
    statistic += (observed - expected) ** 2 / expected;
  }
  const df = keys.length - 1;
  if (df < 1) return { statistic: 0, df: 0, p: 1 };
  return { statistic, df, p: chiSquareSurvival(statistic, df) };
}

export interface DriftThresholds {
  /** PSI at or above this is drift; null turns the test off. 0.25 by default (major). */
  psi?: number | null;
  /** Jensen-Shannon distance at or above this is drift, for large samples; null: off. 0.1. */
  jsDistance?: number | null;
  /** Chi-square p-value below this is drift, for small samples; null: off. 0.05. */
  chiSquareP?: number | null;
  /** Current samples up to this size use chi-square, larger ones Jensen-Shannon. 1000. */
  largeSampleSize?: number;
  /** PSI's empty-bin proportion. 0.0001. */
  epsilon?: number;
}

export interface DriftTest {
  test: 'psi' | 'chi_square' | 'jensen_shannon';
  value: number;
  threshold: number | null;
  /** Whether the test counts for this sample (chi-square for small, Jensen-Shannon for large). */
  applies: boolean;
  fired: boolean;
}

export interface LabelDriftReport {
  psi: number;
  psiLevel: 'none' | 'moderate' | 'major';
  jsDistance: number;
  chiSquareP: number;
  chiSquare: ChiSquareResult;
  referenceN: number;
  currentN: number;
  /** Proportions per category, reference and current, for the report's table. */
  distribution: Record<string, { reference: number; current: number }>;
  tests: DriftTest[];
  drifted: boolean;
  /** One sentence per test that fired: which, its value against the threshold, and why. */
  firedBy: string[];
  /** One line for the whole report, drifted or not. */
  summary: string;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const num = (x: number) => (x === Infinity ? '∞' : Math.abs(x) < 1e-3 && x !== 0 ? x.toExponential(2) : x.toFixed(3));

/** Compare two label distributions (counts per label) and say whether, and why, they drifted. */
export function labelDriftReport(reference: Counts, current: Counts, thresholds: DriftThresholds = {}): LabelDriftReport {
  const psiMin = thresholds.psi === undefined ? 0.25 : thresholds.psi;
  const jsMin = thresholds.jsDistance === undefined ? 0.1 : thresholds.jsDistance;
  const pMax = thresholds.chiSquareP === undefined ? 0.05 : thresholds.chiSquareP;
  const large = thresholds.largeSampleSize ?? 1000;
  const referenceN = total(reference, 'reference');
  const currentN = total(current, 'current');
  const keys = categories(reference, current);
  const distribution: LabelDriftReport['distribution'] = {};
  for (const k of keys) distribution[k] = { reference: (reference[k] ?? 0) / referenceN, current: (current[k] ?? 0) / currentN };

  const psiValue = psi(reference, current, { epsilon: thresholds.epsilon });
  const js = jensenShannonDistance(reference, current);
  const chi = chiSquareTest(reference, current);
  const small = currentN <= large;

  const tests: DriftTest[] = [
    { test: 'psi', value: psiValue, threshold: psiMin, applies: psiMin !== null, fired: psiMin !== null && psiValue >= psiMin },
    { test: 'chi_square', value: chi.p, threshold: pMax, applies: pMax !== null && small, fired: pMax !== null && small && chi.p < pMax },
    { test: 'jensen_shannon', value: js, threshold: jsMin, applies: jsMin !== null && !small, fired: jsMin !== null && !small && js >= jsMin },
  ];

  // The category that moved most, so the sentence points at something to look at.
  const moved = keys.map((k) => ({ k, d: distribution[k]! })).sort((x, y) => Math.abs(y.d.current - y.d.reference) - Math.abs(x.d.current - x.d.reference))[0];
  const where = moved ? `; "${moved.k}" moved most, ${pct(moved.d.reference)} of reference → ${pct(moved.d.current)} of current` : '';

  const firedBy: string[] = [];
  for (const t of tests) {
    if (!t.fired) continue;
    if (t.test === 'psi') {
      firedBy.push(`PSI ${num(t.value)} is at or above the threshold ${t.threshold} (${psiLevel(t.value)} shift; 0.1 is moderate, 0.25 major)${where}.`);
    } else if (t.test === 'chi_square') {
      firedBy.push(
        `Chi-square goodness-of-fit p-value ${num(chi.p)} is below ${t.threshold} (statistic ${num(chi.statistic)}, ${chi.df} degree${chi.df === 1 ? '' : 's'} of freedom; ` +
          `used because the current sample has ${currentN} rows, at most ${large})${where}.`,
      );
    } else {
      firedBy.push(
        `Jensen-Shannon distance ${num(t.value)} is at or above the threshold ${t.threshold} (used because the current sample has ${currentN} rows, more than ${large})${where}.`,
      );
    }
  }
  const drifted = firedBy.length > 0;
  const applied = tests
    .filter((t) => t.applies)
    .map((t) => (t.test === 'psi' ? `PSI ${num(t.value)}` : t.test === 'chi_square' ? `chi-square p ${num(t.value)}` : `Jensen-Shannon ${num(t.value)}`));
  const summary = drifted
    ? `Label drift (${firedBy.length} of ${applied.length} tests fired): ${applied.join(', ')}, ${referenceN} reference vs ${currentN} current rows.`
    : `No label drift: ${applied.join(', ') || 'no test enabled'}, ${referenceN} reference vs ${currentN} current rows.`;

  return {
    psi: psiValue,
    psiLevel: psiLevel(psiValue),
    jsDistance: js,
    chiSquareP: chi.p,
    chiSquare: chi,
    referenceN,
    currentN,
    distribution,
    tests,
    drifted,
    firedBy,
    summary,
  };
}
