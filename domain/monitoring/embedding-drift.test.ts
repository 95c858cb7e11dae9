import { describe, expect, it } from 'vitest';
import { DriftInputError } from '../drift';
import { seededRandom } from '../random';
import { embeddingDrift, mmdTest, rocAuc } from './embedding-drift';

/** Gaussian rows (Box–Muller), seeded; `shift` moves the first `shifted` dimensions. */
function gaussianRows(n: number, d: number, seed: number, shift = 0, shifted = d): number[][] {
  const rand = seededRandom(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  return Array.from({ length: n }, () => Array.from({ length: d }, (_, k) => normal() + (k < shifted ? shift : 0)));
}

describe('rocAuc', () => {
  it('is the Mann–Whitney statistic, ties counted half (closed form)', () => {
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBe(0.75); // sklearn's roc_auc_score example
    expect(rocAuc([1, 2, 3, 4], [0, 0, 1, 1])).toBe(1);
    expect(rocAuc([1, 2, 3, 4], [1, 1, 0, 0])).toBe(0);
    expect(rocAuc([5, 5, 5, 5], [0, 1, 0, 1])).toBe(0.5);
    // Pairs (pos, neg): (2,1)=1, (2,2)=½, (2,3)=0, (3,1)=1, (3,2)=1, (3,3)=½ → 4/6
    expect(rocAuc([1, 2, 3, 2, 3], [0, 0, 0, 1, 1])).toBeCloseTo(4 / 6, 12);
  });

  it('refuses one class only', () => {
    expect(() => rocAuc([1, 2], [1, 1])).toThrow(DriftInputError);
  });
});

describe('mmdTest', () => {
  it('computes the unbiased MMD² of a hand-checkable 1-D example', () => {
    // x = {0, 1}, y = {3, 4}; squared distances 1 (x–x, y–y), 9, 16, 4, 9 (x–y); median of the
    // six is 9 (the fourth after sorting 1, 1, 4, 9, 9, 16) so σ² = 9 / 2 and k = exp(-d² / 9).
    const k = (d2: number) => Math.exp(-d2 / 9);
    const expected = k(1) + k(1) - (2 * (k(9) + k(16) + k(4) + k(9))) / 4;
    const { mmd2, bandwidth } = mmdTest([[0], [1]], [[3], [4]], 0);
    expect(bandwidth).toBeCloseTo(Math.sqrt(4.5), 12);
    expect(mmd2).toBeCloseTo(expected, 12);
  });

  it('gives a small p-value to a shift and a large one to the same distribution', () => {
    const reference = gaussianRows(150, 8, 1);
    expect(mmdTest(reference, gaussianRows(150, 8, 2, 0.5), 100, 3).p).toBeLessThan(0.05);
    expect(mmdTest(reference, gaussianRows(150, 8, 4), 100, 3).p).toBeGreaterThan(0.05);
  });
});

describe('embeddingDrift', () => {
  it('flags a shift in a few dimensions, by the domain classifier and MMD alike', () => {
    const drift = embeddingDrift(gaussianRows(300, 16, 5), gaussianRows(300, 16, 6, 0.6, 3));
    expect(drift.auc).toBeGreaterThan(0.6);
    expect(drift.drifted).toBe(true);
    expect(drift.mmdP).toBeLessThan(0.05);
    expect(drift).toMatchObject({ referenceRows: 300, currentRows: 300, dimensions: 16 });
  });

  it('raises few false alarms on windows of one distribution: small samples are judged against shuffled labels', () => {
    const quiet = Array.from({ length: 30 }, (_, i) => embeddingDrift(gaussianRows(100, 8, 10 * i + 1), gaussianRows(100, 8, 10 * i + 2)));
    // At alpha 0.05, 1.5 of 30 are expected; 3 would be a rate of 10%.
    expect(quiet.filter((d) => d.drifted).length).toBeLessThanOrEqual(2);
    for (const d of quiet) expect(d.aucP).toBeGreaterThan(0);
    // Without the shuffled baseline, the 0.55 floor alone lets more through on samples this small.
    expect(quiet.filter((d) => d.auc > 0.55).length).toBeGreaterThan(quiet.filter((d) => d.drifted).length);
  }, 60_000);

  it('is repeatable: same samples and seed, same figures', () => {
    const a = gaussianRows(80, 4, 11);
    const b = gaussianRows(80, 4, 12, 0.3);
    expect(embeddingDrift(a, b)).toEqual(embeddingDrift(a, b));
  });

  it('names what is wrong with its input', () => {
    expect(() => embeddingDrift(gaussianRows(5, 4, 1), gaussianRows(50, 4, 2))).toThrow(/reference sample has 5 rows/);
    expect(() => embeddingDrift(gaussianRows(50, 4, 1), gaussianRows(50, 3, 2))).toThrow(/3 and 4 dimensions/);
    const withNaN = gaussianRows(50, 4, 3);
    withNaN[7]![2] = NaN;
    expect(() => embeddingDrift(gaussianRows(50, 4, 1), withNaN)).toThrow(/current row holds NaN/);
  });
});
