import { describe, expect, it } from 'vitest';
import { chiSquareSurvival, chiSquareTest, DriftInputError, jensenShannonDistance, labelDriftReport, lnGamma, psi, psiLevel, regularizedGammaQ } from './drift';

describe('psi', () => {
  it('is 0 for identical distributions, whatever the scale of the counts', () => {
    expect(psi({ pos: 30, neg: 10 }, { pos: 300, neg: 100 })).toBeCloseTo(0, 15);
  });

  it('matches a hand computation', () => {
    // (0.8 − 0.5)·ln(0.8/0.5) + (0.2 − 0.5)·ln(0.2/0.5) = 0.3·ln 1.6 + 0.3·ln 2.5 = 0.3·ln 4
    expect(psi({ a: 50, b: 50 }, { a: 80, b: 20 })).toBeCloseTo(0.3 * Math.log(4), 12);
  });

  it('replaces an empty bin with epsilon (0.0001 by default)', () => {
    // c is new: (0.1 − 0.0001)·ln(0.1/0.0001) + (0.3 − 0.4)·ln(0.3/0.4)
    const hand = (0.1 - 1e-4) * Math.log(0.1 / 1e-4) + -0.1 * Math.log(0.75);
    expect(psi({ a: 60, b: 40 }, { a: 60, b: 30, c: 10 })).toBeCloseTo(hand, 12);
    const wider = (0.1 - 1e-2) * Math.log(0.1 / 1e-2) + -0.1 * Math.log(0.75);
    expect(psi({ a: 60, b: 40 }, { a: 60, b: 30, c: 10 }, { epsilon: 1e-2 })).toBeCloseTo(wider, 12);
  });

  it('refuses empty and negative inputs', () => {
    expect(() => psi({}, { a: 1 })).toThrow(DriftInputError);
    expect(() => psi({ a: 0 }, { a: 1 })).toThrow(/expected distribution is empty/);
    expect(() => psi({ a: -1, b: 2 }, { a: 1 })).toThrow(/non-negative/);
  });

  it('names the Evidently levels', () => {
    expect([psiLevel(0.05), psiLevel(0.1), psiLevel(0.2), psiLevel(0.25)]).toEqual(['none', 'moderate', 'moderate', 'major']);
  });
});

describe('jensenShannonDistance', () => {
  it('is 0 for identical and √ln 2 for disjoint distributions (natural log, like scipy)', () => {
    expect(jensenShannonDistance({ a: 1, b: 3 }, { a: 10, b: 30 })).toBe(0);
    expect(jensenShannonDistance({ a: 5 }, { b: 5 })).toBeCloseTo(Math.sqrt(Math.log(2)), 12);
    expect(jensenShannonDistance({ a: 5 }, { b: 5 }, { base: 2 })).toBeCloseTo(1, 12);
  });

  it('matches a hand computation', () => {
    const m = [0.65, 0.35];
    const d = 0.5 * (0.5 * Math.log(0.5 / m[0]!) + 0.5 * Math.log(0.5 / m[1]!)) + 0.5 * (0.8 * Math.log(0.8 / m[0]!) + 0.2 * Math.log(0.2 / m[1]!));
    expect(jensenShannonDistance({ a: 50, b: 50 }, { a: 80, b: 20 })).toBeCloseTo(Math.sqrt(d), 12);
    expect(jensenShannonDistance({ a: 50, b: 50 }, { a: 80, b: 20 })).toBeCloseTo(0.22510405812771545, 12);
  });
});

describe('chi-square via the regularized gamma function', () => {
  it('ln Γ matches known values', () => {
    expect(lnGamma(1)).toBeCloseTo(0, 13);
    expect(lnGamma(5)).toBeCloseTo(Math.log(24), 13);
    expect(lnGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 13);
  });

  it('survival function matches closed forms for df 1, 2, 3, 4', () => {
    // df 1: erfc(√(x/2)); df 2: e^(−x/2); df 3: erfc(√(x/2)) + √(2x/π)·e^(−x/2); df 4: e^(−x/2)(1 + x/2)
    expect(chiSquareSurvival(3.841458820694124, 1)).toBeCloseTo(0.05, 12);
    expect(chiSquareSurvival(36, 1) / 1.9731752900754024e-9).toBeCloseTo(1, 9);
    expect(chiSquareSurvival(10, 2)).toBeCloseTo(Math.exp(-5), 14);
    expect(chiSquareSurvival(7, 3)).toBeCloseTo(0.07189777249646513, 12);
    expect(chiSquareSurvival(7, 4)).toBeCloseTo(Math.exp(-3.5) * 4.5, 12);
    expect(chiSquareSurvival(200, 4) / (Math.exp(-100) * 101)).toBeCloseTo(1, 9);
    expect(chiSquareSurvival(0.5, 4)).toBeCloseTo(Math.exp(-0.25) * 1.25, 12);
    expect(chiSquareSurvival(0, 3)).toBe(1);
    expect(chiSquareSurvival(Infinity, 3)).toBe(0);
  });

  it('refuses a non-positive shape', () => {
    expect(() => regularizedGammaQ(0, 1)).toThrow(DriftInputError);
  });

  it('tests current counts against reference proportions scaled to the current total', () => {
    // expected 50/50 of 100; statistic 30²/50 + 30²/50 = 36, df 1
    const r = chiSquareTest({ a: 500, b: 500 }, { a: 80, b: 20 });
    expect(r.statistic).toBeCloseTo(36, 12);
    expect(r.df).toBe(1);
    expect(r.p / 1.9731752900754024e-9).toBeCloseTo(1, 9);
    expect(chiSquareTest({ a: 1, b: 1 }, { a: 5, b: 5 })).toEqual({ statistic: 0, df: 1, p: 1 });
  });

  it('gives p = 0 for a category the reference never saw, and p = 1 for a single category', () => {
    expect(chiSquareTest({ a: 10 }, { a: 5, b: 5 })).toMatchObject({ statistic: Infinity, p: 0 });
    expect(chiSquareTest({ a: 10 }, { a: 5 })).toEqual({ statistic: 0, df: 0, p: 1 });
  });
});

describe('labelDriftReport', () => {
  it('does not drift for identical distributions', () => {
    const r = labelDriftReport({ pos: 40, neg: 40, neu: 20 }, { pos: 40, neg: 40, neu: 20 });
    expect(r.psi).toBeCloseTo(0, 15);
    expect(r.jsDistance).toBe(0);
    expect(r.chiSquareP).toBe(1);
    expect(r.drifted).toBe(false);
    expect(r.firedBy).toEqual([]);
    expect(r.psiLevel).toBe('none');
    expect(r.summary).toMatch(/^No label drift/);
  });

  it('fires PSI and chi-square on a big shift in a small sample, naming the test, the numbers and the label', () => {
    const r = labelDriftReport({ pos: 50, neg: 50 }, { pos: 80, neg: 20 }, { psi: 0.25 });
    expect(r.drifted).toBe(true);
    expect(r.psi).toBeCloseTo(0.3 * Math.log(4), 12);
    expect(r.firedBy).toHaveLength(2);
    expect(r.firedBy[0]).toMatch(/^PSI 0\.416 is at or above the threshold 0\.25 \(major shift/);
    expect(r.firedBy[0]).toMatch(/"(pos|neg)" moved most, 50\.0% of reference → (80|20)\.0% of current\.$/);
    const three = labelDriftReport({ pos: 40, neg: 40, neu: 20 }, { pos: 10, neg: 45, neu: 45 });
    expect(three.firedBy[0]).toContain('"pos" moved most, 40.0% of reference → 10.0% of current');
    expect(r.firedBy[1]).toMatch(
      /^Chi-square goodness-of-fit p-value 1\.97e-9 is below 0\.05 \(statistic 36\.000, 1 degree of freedom; used because the current sample has 100 rows, at most 1000\)/,
    );
    expect(r.tests.find((t) => t.test === 'jensen_shannon')).toMatchObject({ applies: false, fired: false });
    expect(r.distribution.pos).toEqual({ reference: 0.5, current: 0.8 });
  });

  it('uses Jensen-Shannon instead of chi-square on a large sample', () => {
    const r = labelDriftReport({ pos: 5000, neg: 5000 }, { pos: 4000, neg: 1000 }, { psi: null });
    expect(r.drifted).toBe(true);
    expect(r.firedBy).toHaveLength(1);
    expect(r.firedBy[0]).toMatch(
      /^Jensen-Shannon distance 0\.225 is at or above the threshold 0\.1 \(used because the current sample has 5000 rows, more than 1000\)/,
    );
    expect(r.tests.find((t) => t.test === 'chi_square')).toMatchObject({ applies: false, fired: false });
  });

  it('lets a moderate PSI pass a major threshold, and a disabled test never fire', () => {
    // 0.55/0.45 vs 0.5/0.5 on 10 000 rows: tiny PSI and JS distance, chi-square off by size.
    const r = labelDriftReport({ a: 500, b: 500 }, { a: 5500, b: 4500 });
    expect(r.drifted).toBe(false);
    const off = labelDriftReport({ pos: 50, neg: 50 }, { pos: 80, neg: 20 }, { psi: null, chiSquareP: null });
    expect(off.drifted).toBe(false);
    expect(off.summary).toMatch(/no test enabled/);
  });
});
