import { describe, expect, it } from 'vitest';
import { ModelFileMissingError } from '../adapters/scoring/errors';
import type { LoadScorer, Prediction, Scorer } from '../adapters/scoring/port';
import { comparePrecisions } from './precision-comparison';

const labels = ['neg', 'pos'];
const predict = (label: string): Prediction => ({ label, probabilities: { neg: label === 'neg' ? 1 : 0, pos: label === 'pos' ? 1 : 0 } });

/** A scorer per precision that answers from a table; int8 gets the last text wrong. */
function fakeLoader(files: string[], reportsPrecision = true): LoadScorer {
  return async (_dir, options) => {
    const precision = options?.precision ?? 'fp32';
    if (!files.includes(precision)) throw new ModelFileMissingError('/run', `model.${precision}.onnx`, 'train it');
    const scorer: Scorer = {
      labels,
      ...(reportsPrecision ? { precision } : {}),
      predict: async (texts) =>
        texts.map((t, i) => predict(precision === 'int8' && i === texts.length - 1 ? (t === 'good' ? 'neg' : 'pos') : t === 'good' ? 'pos' : 'neg')),
      close: async () => undefined,
    };
    return scorer;
  };
}

const test = { texts: ['good', 'bad', 'good', 'bad'], truth: ['pos', 'neg', 'pos', 'neg'], labels };
const served = { precision: 'fp32' as const, predictions: test.texts.map((t) => predict(t === 'good' ? 'pos' : 'neg')), seconds: 2 };

describe('comparePrecisions', () => {
  it('scores each precision the folder has and marks the served one', async () => {
    const results = await comparePrecisions(fakeLoader(['fp32', 'int8']), '/run', test, served, () => undefined);
    expect(results.map((r) => [r.precision, r.served, r.accuracy, r.agreement])).toEqual([
      ['fp32', true, 1, 1],
      ['int8', false, 0.75, 0.75],
    ]);
    expect(results[0]!.textsPerSecond).toBe(2); // 4 texts in the served pass's 2 seconds
    expect(results[1]!.textsPerSecond).toBeGreaterThan(0);
  });

  it('leaves out a precision whose file a run from before int8 lacks, and scorers that are no ONNX file', async () => {
    expect((await comparePrecisions(fakeLoader(['fp32']), '/run', test, served, () => undefined)).map((r) => r.precision)).toEqual(['fp32']);
    expect((await comparePrecisions(fakeLoader(['fp32', 'int8'], false), '/run', test, served, () => undefined)).map((r) => r.precision)).toEqual(['fp32']);
  });
});
