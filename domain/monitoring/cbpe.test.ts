import { describe, expect, it } from 'vitest';
import { seededRandom } from '../random';
import { applyCalibrator, estimatePerformance, fitCalibrator, fitIsotonic, type Calibrator } from './cbpe';
import { summarize, type ConfidenceCell } from './features';

const identity: Calibrator = { kind: 'identity', why: 'test' };

describe('fitIsotonic (scikit-learn IsotonicRegression(out_of_bounds="clip"))', () => {
  // x, y below; ir.X_thresholds_, ir.y_thresholds_ and ir.predict([...]) from scikit-learn 1.9.1.
  const x = [0.35, 0.4, 0.4, 0.5, 0.55, 0.6, 0.62, 0.7, 0.7, 0.8, 0.85, 0.9, 0.95, 0.99];
  const y = [0, 1, 0, 0, 1, 0, 1, 1, 0, 1, 1, 1, 0, 1];

  it('keeps the same knots', () => {
    const fitted = fitIsotonic(x, y);
    expect(fitted.x).toEqual([0.35, 0.4, 0.5, 0.55, 0.6, 0.62, 0.7, 0.8, 0.95, 0.99]);
    const expected = [0, 1 / 3, 1 / 3, 0.5, 0.5, 2 / 3, 2 / 3, 0.75, 0.75, 1];
    fitted.y.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 12));
  });

  it('predicts by linear interpolation, clipped outside', () => {
    const c: Calibrator = { kind: 'isotonic', ...fitIsotonic(x, y), eceBefore: 0, eceAfter: 0 };
    const at = [0.2, 0.35, 0.45, 0.58, 0.61, 0.75, 0.9, 0.97, 1.0];
    const expected = [0, 0, 1 / 3, 0.5, 0.5833333333333333, 0.7083333333333333, 0.75, 0.875, 1];
    at.forEach((v, i) => expect(applyCalibrator(c, v)).toBeCloseTo(expected[i]!, 12));
  });

  it('below the first knot, falls on the line to chance (1/k, 1/k) instead of clipping', () => {
    const c: Calibrator = { kind: 'isotonic', x: [0.6, 0.9], y: [0.9, 1], chance: 1 / 3, eceBefore: 0, eceAfter: 0 };
    expect(applyCalibrator(c, 0.6)).toBeCloseTo(0.9, 12);
    expect(applyCalibrator(c, (1 / 3 + 0.6) / 2)).toBeCloseTo((1 / 3 + 0.9) / 2, 12);
    expect(applyCalibrator(c, 0.3)).toBeCloseTo(1 / 3, 12);
  });
});

describe('estimatePerformance', () => {
  // Two labels; cell spreads are Σ p_other / (1 − confidence), i.e. one per row with two labels.
  const cells: ConfidenceCell[] = [
    { label: 'a', confidence: 0.9, rows: 10, spread: { a: 90, b: 10 } },
    { label: 'b', confidence: 0.6, rows: 30, spread: { a: 30, b: 45 } },
  ];

  it('accuracy is the mean calibrated confidence, with the normal band of a sum of Bernoullis', () => {
    const e = estimatePerformance({ rows: 40, confidence: cells }, ['a', 'b'], identity)!;
    expect(e.accuracy.value).toBeCloseTo((10 * 0.9 + 30 * 0.6) / 40, 12);
    const half = (1.96 * Math.sqrt(10 * 0.9 * 0.1 + 30 * 0.6 * 0.4)) / 40;
    expect(e.accuracy.lower).toBeCloseTo(0.675 - half, 12);
    expect(e.accuracy.upper).toBeCloseTo(0.675 + half, 12);
  });

  it('macro-F1 is the F1 of the expected confusion matrix', () => {
    // a: TP 9, FP 1, FN 12 (b's wrong rows are a's); b: TP 18, FP 12, FN 1.
    const e = estimatePerformance({ rows: 40, confidence: cells }, ['a', 'b'], identity)!;
    expect(e.perClassF1.a).toBeCloseTo(18 / 31, 12);
    expect(e.perClassF1.b).toBeCloseTo(36 / 49, 12);
    expect(e.macroF1.value).toBeCloseTo((18 / 31 + 36 / 49) / 2, 12);
    expect(e.macroF1.lower).toBeLessThan(e.macroF1.value);
    expect(e.macroF1.upper).toBeGreaterThan(e.macroF1.value);
  });

  it('on a calibrated model, the band holds the realized accuracy about 95% of the time', () => {
    const random = seededRandom(5);
    const labels = ['neg', 'neu', 'pos'];
    let inside = 0;
    for (let w = 0; w < 100; w++) {
      const rows = [];
      let correct = 0;
      for (let i = 0; i < 400; i++) {
        const confidence = 0.4 + 0.6 * random();
        const rest = (1 - confidence) / 2;
        const label = labels[Math.floor(random() * 3)]!;
        rows.push({ text: 'x', label, probabilities: Object.fromEntries(labels.map((l) => [l, l === label ? confidence : rest])) });
        if (random() < confidence) correct++;
      }
      const e = estimatePerformance(summarize(rows, labels), labels, identity)!;
      const realized = correct / 400;
      if (realized >= e.accuracy.lower && realized <= e.accuracy.upper) inside++;
    }
    expect(inside).toBeGreaterThan(88);
    expect(inside).toBeLessThan(100);
  });

  it('is null for an empty window', () => {
    expect(estimatePerformance({ rows: 0, confidence: [] }, ['a', 'b'], identity)).toBeNull();
  });
});

describe('fitCalibrator', () => {
  it('keeps isotonic for an overconfident model: it says 95% and is right 60% of the time', () => {
    const random = seededRandom(9);
    const rows = (n: number) => Array.from({ length: n }, () => ({ confidence: 0.9 + 0.1 * random(), correct: random() < 0.6 }));
    const c = fitCalibrator(rows(500), rows(500), 3);
    expect(c.kind).toBe('isotonic');
    if (c.kind !== 'isotonic') return;
    expect(c.eceAfter).toBeLessThan(c.eceBefore);
    expect(c.eceBefore).toBeGreaterThan(0.3);
    expect(applyCalibrator(c, 0.95)).toBeGreaterThan(0.45);
    expect(applyCalibrator(c, 0.95)).toBeLessThan(0.75);
  });

  it('keeps the raw confidence when isotonic does not lower the test split’s ECE, and says why', () => {
    // Validation says the model is right 30% of the time whatever it says; the test split says it is calibrated.
    const validation = [0.6, 0.7, 0.8, 0.9].flatMap((confidence) => Array.from({ length: 20 }, (_, i) => ({ confidence, correct: i < 6 })));
    const test = [0.6, 0.7, 0.8, 0.9].flatMap((confidence) => Array.from({ length: 20 }, (_, i) => ({ confidence, correct: i < 20 * confidence })));
    const c = fitCalibrator(validation, test, 2);
    expect(c).toMatchObject({ kind: 'identity', why: expect.stringMatching(/did not lower the test split's ECE/) });
    expect(fitCalibrator([], test, 2)).toMatchObject({ kind: 'identity', why: expect.stringMatching(/too few/) });
  });
});
