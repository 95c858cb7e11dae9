import { describe, expect, it } from 'vitest';
import { bootstrapCI, bootstrapDifference, bootstrapReport, checkGates, classificationReport, MetricsInputError } from './metrics';
import { seededRandom } from './random';

// labels: spam is predicted once but never true; neu is true three times but never predicted.
const labels = ['pos', 'neg', 'neu', 'spam'];
const truth = ['pos', 'pos', 'pos', 'neg', 'neg', 'neu', 'neu', 'neu'];
const predicted = ['pos', 'pos', 'neg', 'neg', 'pos', 'neg', 'neg', 'spam'];

describe('classificationReport', () => {
  const r = classificationReport(labels, truth, predicted);

  it('builds the confusion matrix with truth as rows, predictions as columns, in labels order', () => {
    expect(r.confusion).toEqual([
      [2, 1, 0, 0],
      [1, 1, 0, 0],
      [0, 2, 0, 1],
      [0, 0, 0, 0],
    ]);
    expect(r.labels).toEqual(labels);
    expect(r.n).toBe(8);
  });

  it('computes per-class metrics by hand', () => {
    // pos: tp 2 of 3 predicted, 3 true; neg: tp 1 of 4 predicted, 2 true.
    expect(r.perClass.pos!.precision).toBeCloseTo(2 / 3, 12);
    expect(r.perClass.pos!.recall).toBeCloseTo(2 / 3, 12);
    expect(r.perClass.pos!.f1).toBeCloseTo(2 / 3, 12);
    expect(r.perClass.neg).toMatchObject({ precision: 0.25, recall: 0.5, support: 2 });
    expect(r.perClass.neg!.f1).toBeCloseTo(1 / 3, 12);
  });

  it('takes 0/0 as 0: a class never predicted and a class absent from the truth', () => {
    expect(r.perClass.neu).toEqual({ precision: 0, recall: 0, f1: 0, support: 3 });
    expect(r.perClass.spam).toEqual({ precision: 0, recall: 0, f1: 0, support: 0 });
  });

  it('macro-averages over every listed label (scikit-learn, zero_division=0)', () => {
    expect(r.accuracy).toBe(3 / 8);
    expect(r.macro_precision).toBeCloseTo(11 / 48, 12);
    expect(r.macro_recall).toBeCloseTo(7 / 24, 12);
    // Mean of per-class F1 (2/3 + 1/3 + 0 + 0) / 4, not the F1 of the macro means.
    expect(r.macro_f1).toBeCloseTo(1 / 4, 12);
  });

  it('gives zeros for an empty sample', () => {
    const e = classificationReport(['a', 'b'], [], []);
    expect(e).toMatchObject({
      accuracy: 0,
      macro_f1: 0,
      macro_precision: 0,
      macro_recall: 0,
      n: 0,
      confusion: [
        [0, 0],
        [0, 0],
      ],
    });
  });

  it('is perfect on a perfect prediction', () => {
    const p = classificationReport(['a', 'b'], ['a', 'b', 'b'], ['a', 'b', 'b']);
    expect(p).toMatchObject({ accuracy: 1, macro_f1: 1, macro_precision: 1, macro_recall: 1 });
  });

  it('refuses unpaired rows and unknown labels, naming the row', () => {
    expect(() => classificationReport(['a'], ['a'], [])).toThrow(MetricsInputError);
    expect(() => classificationReport(['a', 'b'], ['a', 'c'], ['a', 'b'])).toThrow(/truth\[1\] is "c"/);
    expect(() => classificationReport(['a', 'b'], ['a', 'b'], ['a', 'x'])).toThrow(/predicted\[1\] is "x"/);
    expect(() => classificationReport(['a', 'a'], [], [])).toThrow(/unique/);
  });
});

describe('bootstrapCI', () => {
  it('is deterministic for a seed and brackets the point estimate', () => {
    const a = bootstrapCI(labels, truth, predicted, 'accuracy', { seed: 7, iterations: 500 });
    const b = bootstrapCI(labels, truth, predicted, 'accuracy', { seed: 7, iterations: 500 });
    expect(a).toEqual(b);
    expect(a.value).toBe(3 / 8);
    expect(a.lower).toBeLessThanOrEqual(a.value);
    expect(a.upper).toBeGreaterThanOrEqual(a.value);
    expect(a.lower).toBeGreaterThanOrEqual(0);
    expect(a.upper).toBeLessThanOrEqual(1);
    expect(a).toMatchObject({ metric: 'accuracy', alpha: 0.05, iterations: 500, seed: 7 });
  });

  it('changes with the seed and narrows as alpha grows', () => {
    const big = { truth: [...truth, ...truth, ...truth], predicted: [...predicted, ...predicted, ...predicted] };
    const s1 = bootstrapCI(labels, big.truth, big.predicted, 'macro_f1', { seed: 1 });
    const s2 = bootstrapCI(labels, big.truth, big.predicted, 'macro_f1', { seed: 2 });
    expect([s1.lower, s1.upper]).not.toEqual([s2.lower, s2.upper]);
    const wide = bootstrapCI(labels, big.truth, big.predicted, 'macro_f1', { seed: 1, alpha: 0.01 });
    const narrow = bootstrapCI(labels, big.truth, big.predicted, 'macro_f1', { seed: 1, alpha: 0.5 });
    expect(wide.upper - wide.lower).toBeGreaterThan(narrow.upper - narrow.lower);
  });

  it('has zero width for a perfect classifier and for an empty sample', () => {
    const ci = bootstrapCI(['a', 'b'], ['a', 'b', 'a', 'b'], ['a', 'b', 'a', 'b'], 'accuracy', { seed: 3, iterations: 50 });
    expect([ci.lower, ci.value, ci.upper]).toEqual([1, 1, 1]);
    expect(bootstrapCI(['a'], [], [], 'macro_f1')).toMatchObject({ value: 0, lower: 0, upper: 0 });
  });

  it('refuses bad options', () => {
    expect(() => bootstrapCI(labels, truth, predicted, 'accuracy', { iterations: 0 })).toThrow(/iterations/);
    expect(() => bootstrapCI(labels, truth, predicted, 'accuracy', { alpha: 1 })).toThrow(/alpha/);
  });

  it('uses a seeded generator in [0, 1)', () => {
    const r = seededRandom(42);
    const xs = Array.from({ length: 1000 }, r);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(seededRandom(42)()).toBe(xs[0]);
  });
});

describe('bootstrapReport', () => {
  it('gives every headline metric the same interval bootstrapCI gives it', () => {
    const all = bootstrapReport(labels, truth, predicted, { seed: 7, iterations: 300 });
    for (const m of ['accuracy', 'macro_f1', 'macro_precision', 'macro_recall'] as const) {
      expect(all.metrics[m]).toEqual(bootstrapCI(labels, truth, predicted, m, { seed: 7, iterations: 300 }));
    }
  });

  it('gives each class precision, recall and F1 intervals that bracket the point values', () => {
    const all = bootstrapReport(labels, truth, predicted, { seed: 3, iterations: 300 });
    const report = classificationReport(labels, truth, predicted);
    for (const l of labels) {
      for (const c of ['precision', 'recall', 'f1'] as const) {
        const ci = all.perClass[l]![c];
        expect(ci.value).toBe(report.perClass[l]![c]);
        expect(ci.lower).toBeGreaterThanOrEqual(0);
        expect(ci.upper).toBeLessThanOrEqual(1);
        expect(ci.lower).toBeLessThanOrEqual(ci.upper);
      }
    }
    // Some class is uncertain on 8 rows: not every interval can have zero width.
    expect(labels.some((l) => all.perClass[l]!.recall.upper > all.perClass[l]!.recall.lower)).toBe(true);
  });

  it('has zero width for a perfect classifier, skipping resamples that lack a class', () => {
    const all = bootstrapReport(['a', 'b'], ['a', 'b', 'a', 'b'], ['a', 'b', 'a', 'b'], { seed: 1, iterations: 50 });
    expect(all.perClass.a!.precision).toEqual({ value: 1, lower: 1, upper: 1 });
    expect(all.perClass.b!.recall).toEqual({ value: 1, lower: 1, upper: 1 });
    expect(all.metrics.accuracy).toMatchObject({ value: 1, lower: 1, upper: 1 });
  });
});

describe('bootstrapDifference', () => {
  it('is exactly zero for two models that predict the same', () => {
    expect(bootstrapDifference(labels, truth, predicted, predicted, 'macro_f1', { seed: 1, iterations: 100 })).toEqual({ value: 0, lower: 0, upper: 0 });
  });

  it('resamples both models on the same rows: always right minus always wrong is 1 on every resample', () => {
    const t = ['a', 'b', 'a', 'b', 'a'];
    const wrong = t.map((x) => (x === 'a' ? 'b' : 'a'));
    expect(bootstrapDifference(['a', 'b'], t, wrong, t, 'accuracy', { seed: 2, iterations: 100 })).toEqual({ value: 1, lower: 1, upper: 1 });
    expect(bootstrapDifference(['a', 'b'], t, t, wrong, 'accuracy', { seed: 2, iterations: 100 })).toEqual({ value: -1, lower: -1, upper: -1 });
  });

  it('brackets the observed difference', () => {
    const d = bootstrapDifference(labels, truth, predicted, truth, 'accuracy', { seed: 4, iterations: 300 });
    expect(d.value).toBeCloseTo(1 - 3 / 8);
    expect(d.lower).toBeLessThanOrEqual(d.value);
    expect(d.upper).toBeGreaterThanOrEqual(d.value);
    expect(d.lower).toBeGreaterThan(0);
  });
});

describe('checkGates', () => {
  const r = classificationReport(labels, truth, predicted);

  it('passes only when every gate holds, and reports each one', () => {
    const g = checkGates(r, [
      { metric: 'accuracy', min: 0.3 },
      { metric: 'macro_f1', min: 0.3 },
    ]);
    expect(g.passed).toBe(false);
    expect(g.results).toEqual([
      { metric: 'accuracy', min: 0.3, value: 0.375, passed: true },
      { metric: 'macro_f1', min: 0.3, value: 0.25, passed: false },
    ]);
  });

  it('counts a value equal to the minimum as passing; no gates pass', () => {
    expect(checkGates(r, [{ metric: 'accuracy', min: 0.375 }]).passed).toBe(true);
    expect(checkGates(r, [])).toEqual({ passed: true, results: [] });
  });

  it('refuses an unknown metric name from untyped input', () => {
    expect(() => checkGates(r, [{ metric: 'auc' as never, min: 0.5 }])).toThrow(/unknown metric "auc"/);
  });
});
