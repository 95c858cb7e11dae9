// Each statistic against SciPy (1.17) / Evidently (0.7.23) / statsmodels, computed once with the
// venv's Python and written here as constants; the call that made each is in the comment.
// Samples are arithmetic so both languages build the same ones:
//   def A(n, k, m, d, off=0.0): return np.array([((i * k) % m) / d + off for i in range(n)])
import { describe, expect, it } from 'vitest';
import {
  benjaminiHochberg,
  histogramOf,
  kolmogorovSurvival,
  ksTwoSample,
  normedWasserstein,
  numericPsi,
  stdOf,
  wassersteinDistance,
  type Histogram,
} from './stats';

const A = (n: number, k: number, m: number, d: number, off = 0): number[] => Array.from({ length: n }, (_, i) => ((i * k) % m) / d + off);
const h = (xs: number[]): Histogram => histogramOf(xs.map((x) => [x, 1]));

describe('ksTwoSample (scipy.stats.ks_2samp, two-sided, method auto)', () => {
  it.each([
    // stats.ks_2samp(A(40,37,101,10), A(55,53,89,10,0.9))
    ['no shift, 40 vs 55', A(40, 37, 101, 10), A(55, 53, 89, 10, 0.9), 0.09772727272727273, 0.9602439110494781],
    // stats.ks_2samp(A(40,37,101,10), A(55,53,89,10,3.0))
    ['shifted, 40 vs 55', A(40, 37, 101, 10), A(55, 53, 89, 10, 3.0), 0.3159090909090909, 0.014937573671607514],
    // stats.ks_2samp(A(60,7,13,1), A(60,5,11,1)): equal sizes, many ties
    ['ties, 60 vs 60', A(60, 7, 13, 1), A(60, 5, 11, 1), 0.13333333333333333, 0.6647505590510205],
    // stats.ks_2samp(A(30,1,30,1), A(30,1,30,1,8))
    ['equal sizes shifted, 30 vs 30', A(30, 1, 30, 1), A(30, 1, 30, 1, 8), 0.26666666666666666, 0.23907300248018645],
    // stats.ks_2samp(A(900,37,1009,100), A(2500,53,997,100,0.3))
    ['900 vs 2500', A(900, 37, 1009, 100), A(2500, 53, 997, 100, 0.3), 0.030133333333333335, 0.5730236701432203],
    // stats.ks_2samp(A(900,37,1009,100), A(700,53,997,100,1.0))
    ['900 vs 700 shifted', A(900, 37, 1009, 100), A(700, 53, 997, 100, 1.0), 0.09904761904761905, 0.0008133820834499789],
  ])('%s: exact p', (_name, a, b, d, p) => {
    const r = ksTwoSample(h(a), h(b));
    expect(r.method).toBe('exact');
    expect(r.statistic).toBeCloseTo(d, 12);
    expect(r.p / p).toBeCloseTo(1, 9);
  });

  it('above 10,000 rows a side uses the Kolmogorov limit, within 1% of SciPy’s asymptotic p', () => {
    // stats.ks_2samp(A(12000,37,1009,100), A(15000,53,997,100,0.1)) → D 0.01085, p 0.40957376958835234 (kstwo at n=round(en));
    // stats.kstwobign.sf(sqrt(12000*15000/27000)*0.01085) = 0.4124921237517067
    const r = ksTwoSample(h(A(12000, 37, 1009, 100)), h(A(15000, 53, 997, 100, 0.1)));
    expect(r.method).toBe('asymptotic');
    expect(r.statistic).toBeCloseTo(0.01085, 12);
    expect(r.p).toBeCloseTo(0.4124921237517067, 10);
    expect(Math.abs(r.p / 0.40957376958835234 - 1)).toBeLessThan(0.01);
  });

  it('a p-value too small for the exact count comes from the limit distribution, never from a cancelled 1 − P(inside)', () => {
    // _attempt_exact_2kssamp(2000, 5000, 1000, 0.6, 'two-sided') → 2.796e-321; 1 − P(inside) in doubles gives ~1 here.
    const r = ksTwoSample(h(A(2000, 1, 2000, 1000)), h(A(5000, 1, 5000, 1000 / 0.4, 1.2)));
    expect(r.method).toBe('asymptotic');
    expect(r.p).toBeLessThan(1e-100);
  });

  it('counts a histogram value as that many tied rows', () => {
    const rows = ksTwoSample(h([1, 1, 1, 2, 5]), h([2, 2, 3]));
    const weighted = ksTwoSample(
      [
        [1, 3],
        [2, 1],
        [5, 1],
      ],
      [
        [2, 2],
        [3, 1],
      ],
    );
    expect(weighted).toEqual(rows);
  });
});

describe('kolmogorovSurvival (scipy.stats.kstwobign.sf)', () => {
  it.each([
    [0.3, 0.9999906941986655],
    [0.8, 0.5441424115741981],
    [1.0, 0.26999967167735456],
    [1.36, 0.049485876755377876],
    [2.0, 0.0006709252557796953],
    [3.0, 3.045995948942526e-8],
  ])('Q(%s)', (x, sf) => expect(kolmogorovSurvival(x) / sf).toBeCloseTo(1, 10));
});

describe('wassersteinDistance (scipy.stats.wasserstein_distance)', () => {
  it('on rows', () => {
    // stats.wasserstein_distance(A(40,37,101,10), A(55,53,89,10,0.9))
    expect(wassersteinDistance(h(A(40, 37, 101, 10)), h(A(55, 53, 89, 10, 0.9)))).toBeCloseTo(0.4154545454545456, 12);
  });

  it('on weighted values, as u_weights / v_weights', () => {
    // stats.wasserstein_distance([1,2,5], [2,3], [3,1,2], [1,4])
    const a: Histogram = [
      [1, 3],
      [2, 1],
      [5, 2],
    ];
    const b: Histogram = [
      [2, 1],
      [3, 4],
    ];
    expect(wassersteinDistance(a, b)).toBeCloseTo(1.6333333333333333, 12);
  });

  it('normed by the reference’s population std, as Evidently’s wasserstein test', () => {
    // stats.wasserstein_distance(a3, b3) / max(np.std(a3), 0.001), a3 = A(900,37,1009,100), b3 = A(2500,53,997,100,0.3)
    expect(normedWasserstein(h(A(900, 37, 1009, 100)), h(A(2500, 53, 997, 100, 0.3)))).toBeCloseTo(0.08017276987312408, 12);
    // A constant reference has std 0: Evidently divides by 0.001 instead.
    expect(stdOf([[4, 10]])).toBe(0);
    expect(normedWasserstein([[4, 10]], [[5, 10]])).toBeCloseTo(1000, 9);
  });
});

describe('numericPsi (Evidently’s psi stattest, binned as get_binned_data)', () => {
  it('Sturges bins over both samples when the reference has more than 20 values', () => {
    // _psi(pd.Series(A(2000,37,1009,100)), pd.Series(A(1500,53,997,100,1.5)), ColumnType.Numerical, 0.1)[0]; 13 bins, two of them empty on one side
    expect(numericPsi(h(A(2000, 37, 1009, 100)), h(A(1500, 53, 997, 100, 1.5)))).toBeCloseTo(1.3226330214534214, 10);
  });

  it('one bin per value when the reference has at most 20', () => {
    // _psi(pd.Series(A(300,7,13,1)), pd.Series(A(200,5,11,1)), ColumnType.Numerical, 0.1)[0]
    expect(numericPsi(h(A(300, 7, 13, 1)), h(A(200, 5, 11, 1)))).toBeCloseTo(1.042869299779805, 10);
  });
});

describe('benjaminiHochberg (statsmodels multipletests(method="fdr_bh"))', () => {
  it('adjusts and keeps the order', () => {
    // multipletests([0.01,0.04,0.03,0.20,0.001,0.5,0.049], method='fdr_bh')[1]
    const expected = [0.035, 0.0686, 0.0686, 0.23333333333333336, 0.007, 0.5, 0.0686];
    benjaminiHochberg([0.01, 0.04, 0.03, 0.2, 0.001, 0.5, 0.049]).forEach((p, i) => expect(p).toBeCloseTo(expected[i]!, 12));
  });

  it('is the identity for one test; large p-values all become the largest', () => {
    expect(benjaminiHochberg([0.03])).toEqual([0.03]);
    benjaminiHochberg([0.9, 0.95, 0.99]).forEach((p) => expect(p).toBeCloseTo(0.99, 12));
  });
});
