// Which features of a window drifted from the reference, by Evidently's default tests, with two
// guards against false alarms. Pure.
//
// Tests (Evidently's defaults, picked by the window's size): a window of at most 1000 rows is
// tested with two-sample Kolmogorov–Smirnov (numeric) or chi-square (categorical), p < 0.05; a
// larger one with normed Wasserstein distance or Jensen–Shannon distance, ≥ 0.1. Evidently
// picks on the reference's size; we pick on the window's, because the reference is fixed and a
// distance on a small window is mostly noise. PSI is computed for every feature and shown.
//
// Guards: (1) every feature is tested at once, so p-values are adjusted by Benjamini–Hochberg
// (false-discovery rate 5%); (2) whatever the window's size, a feature drifts only when its
// difference is both significant (adjusted KS or chi-square p < 0.05) and large (normed
// Wasserstein or Jensen–Shannon ≥ 0.1). A huge window makes every wobble significant, and a
// small one makes noise look large; needing both keeps either from being called drift.
import { chiSquareTest, jensenShannonDistance, psi, type Counts } from '../drift';
import { type FeatureDefinition } from './features';
import { benjaminiHochberg, countOf, ksTwoSample, meanOf, normedWasserstein, numericPsi, type Histogram } from './stats';

export interface DriftOptions {
  /** Windows up to this many rows use the p-value tests. Evidently: 1000. */
  largeSampleSize: number;
  /** False-discovery rate for Benjamini–Hochberg. 0.05. */
  alpha: number;
  /** Normed Wasserstein distance a numeric feature must reach. Evidently: 0.1. */
  wasserstein: number;
  /** Jensen–Shannon distance a categorical feature must reach. Evidently: 0.1. */
  jensenShannon: number;
}

export const DEFAULT_DRIFT_OPTIONS: DriftOptions = { largeSampleSize: 1000, alpha: 0.05, wasserstein: 0.1, jensenShannon: 0.1 };

export interface FeatureDrift {
  feature: string;
  title: string;
  kind: 'input' | 'output';
  type: 'numeric' | 'categorical';
  /** The test that decides, and its value: a p-value for ks/chi_square, a distance otherwise. */
  test: 'ks' | 'chi_square' | 'wasserstein' | 'jensen_shannon';
  value: number;
  threshold: number;
  /** The p-value of the significance test (KS or chi-square), raw and adjusted. */
  p: number;
  adjustedP: number;
  /** The effect size (normed Wasserstein or Jensen–Shannon distance) and the floor it had to reach. */
  effect: number;
  effectThreshold: number;
  psi: number;
  referenceRows: number;
  currentRows: number;
  /** Means (numeric) or the category that moved most (categorical), for sentences. */
  referenceMean?: number;
  currentMean?: number;
  moved?: { category: string; reference: number; current: number };
  drifted: boolean;
}

export type FeatureSample =
  | { definition: FeatureDefinition; reference: Histogram; current: Histogram }
  | { definition: FeatureDefinition; reference: Counts; current: Counts; categorical: true };

const sum = (c: Counts) => Object.values(c).reduce((s, x) => s + x, 0);

function mostMoved(reference: Counts, current: Counts) {
  const nr = sum(reference);
  const nc = sum(current);
  const keys = [...new Set([...Object.keys(reference), ...Object.keys(current)])];
  return keys
    .map((k) => ({ category: k, reference: (reference[k] ?? 0) / nr, current: (current[k] ?? 0) / nc }))
    .sort((a, b) => Math.abs(b.current - b.reference) - Math.abs(a.current - a.reference))[0];
}

/** Tests every feature given; features with no rows on either side are left out (nothing to compare). */
export function testFeatures(samples: FeatureSample[], options: DriftOptions = DEFAULT_DRIFT_OPTIONS): FeatureDrift[] {
  const raw = samples.flatMap((s): Omit<FeatureDrift, 'adjustedP' | 'drifted' | 'value' | 'threshold' | 'test' | 'effectThreshold'>[] => {
    const { definition: d } = s;
    if ('categorical' in s) {
      const referenceRows = sum(s.reference);
      const currentRows = sum(s.current);
      if (!referenceRows || !currentRows) return [];
      return [
        {
          feature: d.id,
          title: d.title,
          kind: d.kind,
          type: 'categorical',
          p: chiSquareTest(s.reference, s.current).p,
          effect: jensenShannonDistance(s.reference, s.current),
          psi: psi(s.reference, s.current),
          referenceRows,
          currentRows,
          moved: mostMoved(s.reference, s.current),
        },
      ];
    }
    const referenceRows = countOf(s.reference);
    const currentRows = countOf(s.current);
    if (!referenceRows || !currentRows) return [];
    return [
      {
        feature: d.id,
        title: d.title,
        kind: d.kind,
        type: 'numeric',
        p: ksTwoSample(s.reference, s.current).p,
        effect: normedWasserstein(s.reference, s.current),
        psi: numericPsi(s.reference, s.current),
        referenceRows,
        currentRows,
        referenceMean: meanOf(s.reference),
        currentMean: meanOf(s.current),
      },
    ];
  });
  const adjusted = benjaminiHochberg(raw.map((r) => r.p));
  return raw.map((r, i) => {
    const adjustedP = adjusted[i]!;
    const large = r.currentRows > options.largeSampleSize;
    const distance = r.type === 'numeric' ? options.wasserstein : options.jensenShannon;
    const effectThreshold = distance;
    const drifted = adjustedP < options.alpha && r.effect >= effectThreshold;
    const test: FeatureDrift['test'] = large ? (r.type === 'numeric' ? 'wasserstein' : 'jensen_shannon') : r.type === 'numeric' ? 'ks' : 'chi_square';
    return { ...r, adjustedP, test, value: large ? r.effect : r.p, threshold: large ? distance : options.alpha, effectThreshold, drifted };
  });
}

const TEST_NAMES: Record<FeatureDrift['test'], string> = {
  ks: 'Kolmogorov–Smirnov p',
  chi_square: 'chi-square p',
  wasserstein: 'normed Wasserstein distance',
  jensen_shannon: 'Jensen–Shannon distance',
};

export const num = (x: number) => (x === Infinity ? '∞' : x !== 0 && Math.abs(x) < 1e-3 ? x.toExponential(2) : x.toFixed(3));
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** One sentence per drifted feature: the test, its value and threshold, the guard, and what moved. */
export function describeDrift(f: FeatureDrift): string {
  const side = f.test === 'ks' || f.test === 'chi_square' ? 'below' : 'at or above';
  const guard =
    f.test === 'ks' || f.test === 'chi_square'
      ? `Benjamini–Hochberg adjusted p ${num(f.adjustedP)}; effect ${f.type === 'numeric' ? 'normed Wasserstein' : 'Jensen–Shannon'} ${num(f.effect)} ≥ ${num(f.effectThreshold)}`
      : `${f.type === 'numeric' ? 'KS' : 'chi-square'} p ${num(f.p)}, Benjamini–Hochberg adjusted ${num(f.adjustedP)} < 0.05`;
  const what =
    f.type === 'numeric'
      ? `mean ${fmtMean(f.referenceMean)} in the reference → ${fmtMean(f.currentMean)} now`
      : f.moved
        ? `"${f.moved.category}" ${pct(f.moved.reference)} of the reference → ${pct(f.moved.current)} now`
        : '';
  return (
    `${f.kind} "${f.title}" (${f.feature}) drifted: ${TEST_NAMES[f.test]} ${num(f.value)} is ${side} ${f.threshold} ` +
    `(${guard}; PSI ${num(f.psi)}; ${f.currentRows} rows vs ${f.referenceRows} in the reference); ${what}.`
  );
}

const fmtMean = (x: number | undefined) => (x === undefined ? '—' : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(3));

/** The drifted feature whose effect is largest relative to its threshold; else the largest effect overall. */
export function movedMost(features: FeatureDrift[]): FeatureDrift | undefined {
  const pool = features.some((f) => f.drifted) ? features.filter((f) => f.drifted) : features;
  return [...pool].sort((a, b) => b.effect / b.effectThreshold - a.effect / a.effectThreshold)[0];
}
