// Two-sample statistics for numeric features, on histograms rather than rows: a monitoring
// window of a million predictions arrives from SQL as a few thousand (value, count) pairs, and
// every statistic here is exact on them (a value's count is that many tied rows). Pure.
//
// Definitions follow SciPy, so the numbers can be checked against it and match Evidently,
// which calls SciPy: ks_2samp (two-sided, exact below 10,000 rows a side, as method='auto'),
// wasserstein_distance, and Evidently's normed Wasserstein (divided by the reference's
// population standard deviation, at least 0.001). Chi-square, Jensen–Shannon and PSI of
// categories live in ../drift.ts; numeric PSI bins values as Evidently does, then uses it.
import { DriftInputError, psi } from '../drift';

/** [value, count] pairs, sorted by value, values distinct, counts positive. */
export type Histogram = [number, number][];

/** Sorts and merges pairs into a Histogram; refuses what a count cannot be. */
export function histogramOf(pairs: Iterable<[number, number]>): Histogram {
  const merged = new Map<number, number>();
  for (const [value, count] of pairs) {
    if (!Number.isFinite(value)) throw new DriftInputError(`histogram value ${value} is not a finite number`);
    if (!Number.isFinite(count) || count < 0) throw new DriftInputError(`count ${count} of value ${value} must be finite and non-negative`);
    if (count > 0) merged.set(value, (merged.get(value) ?? 0) + count);
  }
  return [...merged].sort((a, b) => a[0] - b[0]);
}

export function countOf(h: Histogram): number {
  let n = 0;
  for (const [, c] of h) n += c;
  return n;
}

export function meanOf(h: Histogram): number {
  const n = countOf(h);
  let s = 0;
  for (const [v, c] of h) s += v * c;
  return n ? s / n : NaN;
}

/** Population standard deviation (numpy's np.std, ddof 0). */
export function stdOf(h: Histogram): number {
  const n = countOf(h);
  if (!n) return NaN;
  const m = meanOf(h);
  let s = 0;
  for (const [v, c] of h) s += c * (v - m) ** 2;
  return Math.sqrt(s / n);
}

function nonEmpty(h: Histogram, which: string): number {
  const n = countOf(h);
  if (n === 0) throw new DriftInputError(`${which} sample is empty; a two-sample statistic needs rows on both sides`);
  return n;
}

/**
 * Walks the merged distinct values of both samples in order, handing each value, the next
 * value, and both empirical CDFs at the value (ties included, as searchsorted side='right').
 */
function walkCdfs(a: Histogram, b: Histogram, visit: (value: number, next: number | undefined, fa: number, fb: number) => void): void {
  const na = countOf(a);
  const nb = countOf(b);
  let i = 0;
  let j = 0;
  let ca = 0;
  let cb = 0;
  while (i < a.length || j < b.length) {
    const va = i < a.length ? a[i]![0] : Infinity;
    const vb = j < b.length ? b[j]![0] : Infinity;
    const v = Math.min(va, vb);
    if (va === v) ca += a[i++]![1];
    if (vb === v) cb += b[j++]![1];
    const next = Math.min(i < a.length ? a[i]![0] : Infinity, j < b.length ? b[j]![0] : Infinity);
    visit(v, Number.isFinite(next) ? next : undefined, ca / na, cb / nb);
  }
}

/** The first Wasserstein distance of two samples: ∫ |F_a − F_b| dx (scipy.stats.wasserstein_distance). */
export function wassersteinDistance(a: Histogram, b: Histogram): number {
  nonEmpty(a, 'first');
  nonEmpty(b, 'second');
  let sum = 0;
  walkCdfs(a, b, (v, next, fa, fb) => {
    if (next !== undefined) sum += Math.abs(fa - fb) * (next - v);
  });
  return sum;
}

/** Evidently's "Wasserstein distance (normed)": the distance in units of the reference's standard deviation (at least 0.001). */
export function normedWasserstein(reference: Histogram, current: Histogram): number {
  return wassersteinDistance(reference, current) / Math.max(stdOf(reference), 0.001);
}

export interface KsResult {
  /** The largest gap between the two empirical CDFs. */
  statistic: number;
  p: number;
  /** 'exact' up to 10,000 rows a side (SciPy's method='auto') unless p < 1e-8, else the Kolmogorov limit. */
  method: 'exact' | 'asymptotic';
}

/** SciPy's MAX_AUTO_N: ks_2samp is exact while both samples are at most this large. */
const EXACT_KS_MAX = 10_000;

/** Two-sided two-sample Kolmogorov–Smirnov test (scipy.stats.ks_2samp). */
export function ksTwoSample(a: Histogram, b: Histogram): KsResult {
  const n1 = nonEmpty(a, 'first');
  const n2 = nonEmpty(b, 'second');
  let d = 0;
  walkCdfs(a, b, (_v, _next, fa, fb) => {
    d = Math.max(d, Math.abs(fa - fb));
  });
  const limit = kolmogorovSurvival(Math.sqrt((n1 * n2) / (n1 + n2)) * d);
  // Below 1e-8 the exact count's 1 − P(inside) has no digits left in double precision (it can
  // even come out near 1 for a huge D); the limit is then the better number, and drift is clear.
  if (Number.isInteger(n1) && Number.isInteger(n2) && Math.max(n1, n2) <= EXACT_KS_MAX && limit >= 1e-8) {
    const exact = ksExactSurvival(n1, n2, d);
    if (exact !== null) return { statistic: d, p: exact, method: 'exact' };
  }
  return { statistic: d, p: limit, method: 'asymptotic' };
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/**
 * P(D ≥ d) under the null for samples of n1 and n2 rows, by counting lattice paths that stay
 * inside the band (Hodges 1958, as SciPy's _compute_prob_inside_method) — 1 − that share, so
 * only p-values above about 1e-8 keep their digits (checked against SciPy up to 10,000 rows a
 * side). Null when the count overflows; the caller then uses the limit distribution.
 */
export function ksExactSurvival(n1: number, n2: number, d: number): number | null {
  const g = gcd(n1, n2);
  const lcm = (n1 / g) * n2;
  const h = Math.round(d * lcm);
  if (h === 0) return 1;
  const [m, n] = n1 >= n2 ? [n1, n2] : [n2, n1];
  if (m === n) return Math.min(1, Math.max(0, outsideSquare(n, h)));
  const mg = m / g;
  const ng = n / g;
  // A(x, y) counts paths from (0,0) to (x,y) with |n·x − m·y|/g < h; one sliding column of it,
  // updated in place (the window only moves up, so each read comes before its overwrite).
  let minj = 0;
  let maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const A = new Float64Array(n + 2);
  for (let j = minj; j < maxj; j++) A[j] = 1;
  let exponent = 0;
  for (let i = 1; i <= m; i++) {
    const lastminj = minj;
    const lastlen = curlen;
    minj = Math.min(Math.max(Math.floor((ng * i - h) / mg) + 1, 0), n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1;
    const offset = minj - lastminj;
    let run = 0;
    for (let k = 0; k < maxj - minj; k++) {
      run += offset + k < lastlen ? A[offset + k]! : 0;
      A[k] = run;
    }
    curlen = maxj - minj;
    for (let k = curlen; k < lastlen; k++) A[k] = 0;
    // Entries are binomial-sized: keep them in range and count the scale separately.
    if (A[curlen - 1]! > 2 ** 900) {
      for (let k = 0; k < curlen; k++) A[k]! *= 2 ** -800;
      exponent += 800;
    }
  }
  let inside = A[curlen - 1]!;
  // Divide by binom(m + n, n), putting the scale back once the value is small enough.
  for (let i = 1; i <= n; i++) {
    inside = (inside * i) / (m + i);
    if (inside < 2 ** -128 && exponent > 0) {
      const step = Math.min(exponent, 800);
      inside *= 2 ** step;
      exponent -= step;
    }
  }
  if (exponent !== 0) inside *= 2 ** exponent;
  if (!Number.isFinite(inside)) return null;
  return Math.min(1, Math.max(0, 1 - inside));
}

/** Pr(D_{n,n} ≥ h/n): SciPy's _compute_prob_outside_square, a Horner-like alternating sum. */
function outsideSquare(n: number, h: number): number {
  let p = 0;
  for (let k = Math.floor(n / h); k >= 0; k--) {
    let p1 = 1;
    for (let j = 0; j < h; j++) p1 = ((n - k * h - j) * p1) / (n + k * h + j + 1);
    p = p1 * (1 - p);
  }
  return 2 * p;
}

/**
 * Survival function of the Kolmogorov distribution (scipy.stats.kstwobign.sf): the limit of
 * √n·D. SciPy's asymptotic two-sample p uses the finite-n distribution kstwo at n = n1·n2/(n1+n2);
 * above 10,000 rows a side the two agree to about 1% of the p-value.
 */
export function kolmogorovSurvival(x: number): number {
  if (!(x > 0)) return 1;
  if (x < 1) {
    // The theta-function form converges fast for small x: K(x) = √(2π)/x Σ exp(−(2k−1)²π²/(8x²)).
    let cdf = 0;
    for (let k = 1; k <= 20; k++) cdf += Math.exp((-((2 * k - 1) ** 2) * Math.PI ** 2) / (8 * x * x));
    return Math.min(1, Math.max(0, 1 - (Math.sqrt(2 * Math.PI) / x) * cdf));
  }
  let sf = 0;
  for (let k = 1; k <= 100; k++) {
    const term = Math.exp(-2 * k * k * x * x);
    sf += (k % 2 ? 2 : -2) * term;
    if (term < 1e-300) break;
  }
  return Math.min(1, Math.max(0, sf));
}

/**
 * PSI of a numeric feature, binned as Evidently does (utils.get_binned_data): with more than
 * 20 distinct reference values, Sturges' number of equal-width bins over the range of both
 * samples together (numpy's histogram_bin_edges(..., 'sturges'), last bin closed); otherwise
 * one bin per value. Empty bins take PSI's epsilon (../drift.ts).
 */
export function numericPsi(reference: Histogram, current: Histogram): number {
  const nRef = nonEmpty(reference, 'reference');
  const nCur = nonEmpty(current, 'current');
  if (reference.length <= 20) {
    const asCounts = (h: Histogram) => Object.fromEntries(h.map(([v, c]) => [String(v), c]));
    return psi(asCounts(reference), asCounts(current));
  }
  const lo = Math.min(reference[0]![0], current[0]![0]);
  const hi = Math.max(reference.at(-1)![0], current.at(-1)![0]);
  const bins = Math.ceil(Math.log2(nRef + nCur)) + 1;
  const width = (hi - lo) / bins;
  const binOf = (v: number) => (width > 0 ? Math.min(bins - 1, Math.floor((v - lo) / width)) : 0);
  const counts = (h: Histogram) => {
    const out: Record<string, number> = {};
    for (let b = 0; b < bins; b++) out[b] = 0;
    for (const [v, c] of h) out[binOf(v)]! += c;
    return out;
  };
  return psi(counts(reference), counts(current));
}

/**
 * Benjamini–Hochberg adjusted p-values (statsmodels' multipletests(method='fdr_bh')): a test
 * is significant at false-discovery rate q when its adjusted p is below q. Order is kept.
 */
export function benjaminiHochberg(ps: readonly number[]): number[] {
  const m = ps.length;
  const order = ps.map((p, i) => [p, i] as const).sort((a, b) => a[0] - b[0]);
  const adjusted = new Array<number>(m);
  let running = 1;
  for (let r = m - 1; r >= 0; r--) {
    const [p, i] = order[r]!;
    running = Math.min(running, (p * m) / (r + 1));
    adjusted[i] = Math.min(1, running);
  }
  return adjusted;
}
