import { describe, expect, it } from 'vitest';
import { bestTrial, expandTrials } from './search';
import { parseSpec } from './spec';

describe('expandTrials', () => {
  it('is the full grid when it fits', () => {
    const trials = expandTrials({ trials: 10, concurrency: 2, space: { learningRate: [0.001, 0.0005], epochs: [2, 3] } }, 1);
    expect(trials).toHaveLength(4);
    expect(trials).toContainEqual({ epochs: 3, learningRate: 0.0005 });
  });

  it('draws the same distinct subset for the same seed', () => {
    const space = { learningRate: [0.001, 0.0005, 0.0001], epochs: [1, 2, 3], dropout: [0.1, 0.2] };
    const a = expandTrials({ trials: 5, concurrency: 2, space }, 7);
    expect(a).toEqual(expandTrials({ trials: 5, concurrency: 2, space }, 7));
    expect(new Set(a.map((t) => JSON.stringify(t))).size).toBe(5);
  });

  it('refuses values that are not valid params', () => {
    expect(() => expandTrials({ trials: 2, concurrency: 1, space: { epochs: [0] } }, 1)).toThrow();
  });

  it('is part of the spec, and names unknown parameters', () => {
    const base = { name: 'm', labels: ['a', 'b'], data: { path: 'x' }, roles: { auditors: ['a'], deployers: ['b'] } };
    expect(parseSpec({ ...base, training: { search: { trials: 4, space: { epochs: [1, 2] } } } }).training.search?.concurrency).toBe(2);
    expect(() => parseSpec({ ...base, training: { search: { trials: 4, space: { epoch: [1] } } } })).toThrow(/training.search.space/);
  });
});

describe('bestTrial', () => {
  it('picks the highest score, skipping failed trials', () => {
    expect(
      bestTrial([
        { trial: 0, score: 0.4 },
        { trial: 1, score: null },
        { trial: 2, score: 0.6 },
      ]),
    ).toBe(2);
    expect(bestTrial([{ trial: 0, score: null }])).toBeNull();
  });
});
