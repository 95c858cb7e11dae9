import { describe, expect, it } from 'vitest';
import { calibration, CalibrationInputError } from './calibration';

describe('calibration', () => {
  it('matches a hand-computed reliability table and ECE', () => {
    // Five bins of width 0.2. Rows:
    //   0.10 wrong                → bin 1 (0, 0.2]:   conf 0.10, acc 0
    //   0.50 right, 0.55 wrong    → bin 3 (0.4, 0.6]: conf 0.525, acc 0.5
    //   0.90 right, 0.95 right, 1.00 wrong → bin 5 (0.8, 1]: conf 0.95, acc 2/3
    // ECE = 1/6·0.10 + 2/6·0.025 + 3/6·(0.95 − 2/3) = 0.016667 + 0.008333 + 0.141667 = 0.166667
    const c = calibration([0.1, 0.5, 0.55, 0.9, 0.95, 1.0], [false, true, false, true, true, false], 5);
    expect(c.n).toBe(6);
    expect(c.bins.map((b) => b.count)).toEqual([1, 0, 2, 0, 3]);
    expect(c.bins.map((b) => b.correct)).toEqual([0, 0, 1, 0, 2]);
    expect(c.bins[1]).toMatchObject({ meanConfidence: null, accuracy: null });
    expect(c.bins[2]!.meanConfidence).toBeCloseTo(0.525, 12);
    expect(c.bins[4]!.accuracy).toBeCloseTo(2 / 3, 12);
    expect(c.bins[4]).toMatchObject({ lower: 0.8, upper: 1 });
    expect(c.ece).toBeCloseTo(1 / 6, 12);
    expect(c.mce).toBeCloseTo(0.95 - 2 / 3, 12);
  });

  it('puts a confidence on a bin edge in the lower bin, and 0 in the first', () => {
    const c = calibration([0, 0.2, 0.2000001, 0.6], [true, true, true, true], 5);
    expect(c.bins.map((b) => b.count)).toEqual([2, 1, 1, 0, 0]);
  });

  it('is zero for a perfectly calibrated model and for no rows', () => {
    // Half right at 0.5, all right at 1.0.
    expect(calibration([0.5, 0.5, 1, 1], [true, false, true, true], 10).ece).toBeCloseTo(0, 12);
    expect(calibration([], [], 10)).toMatchObject({ ece: 0, mce: 0, n: 0 });
  });

  it('refuses unpaired rows, probabilities out of range and bad bin counts', () => {
    expect(() => calibration([0.5], [], 10)).toThrow(CalibrationInputError);
    expect(() => calibration([1.5], [true], 10)).toThrow(/confidence\[0\] is 1.5/);
    expect(() => calibration([Number.NaN], [true], 10)).toThrow(/confidence\[0\]/);
    expect(() => calibration([0.5], [true], 0)).toThrow(/binCount/);
  });
});
