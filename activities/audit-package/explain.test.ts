import { describe, expect, it } from 'vitest';
import type { Scorer } from '../../adapters/scoring/port';
import { explainExamples, MAX_EXPLAINED, pickExamples, type ScoredRow } from './explain';

const row = (label: string, predicted: string, confidence: number, text = `${label}->${predicted}`): ScoredRow => ({ text, label, predicted, confidence });

describe('pickExamples', () => {
  it('takes the most confident errors first, then rows of each class, never one twice', () => {
    const rows = [row('a', 'b', 0.6), row('a', 'a', 0.9), row('b', 'a', 0.99), row('b', 'b', 0.7), row('c', 'c', 0.8)];
    const picked = pickExamples(['a', 'b', 'c'], rows);
    expect(picked.filter((p) => p.kind === 'error').map((p) => p.index)).toEqual([2, 0]);
    const samples = picked.filter((p) => p.kind === 'sample').map((p) => p.index);
    expect(samples.sort()).toEqual([1, 3, 4]);
  });

  it('stays within the bound on a large split', () => {
    const rows = Array.from({ length: 1000 }, (_, i) => row(['a', 'b', 'c'][i % 3]!, ['a', 'b', 'c'][(i * 2) % 3]!, (i % 97) / 97));
    const picked = pickExamples(['a', 'b', 'c'], rows);
    // 10 errors, then (30 - 10) / 3 = 6 rows of each class.
    expect(picked.length).toBe(28);
    expect(picked.length).toBeLessThanOrEqual(MAX_EXPLAINED);
    expect(picked.filter((p) => p.kind === 'error')).toHaveLength(10);
    expect(new Set(picked.map((p) => p.index)).size).toBe(picked.length);
    // Spread over each class: not the first rows only.
    expect(Math.max(...picked.filter((p) => p.kind === 'sample').map((p) => p.index))).toBeGreaterThan(500);
  });
});

describe('explainExamples', () => {
  it('says so when the scorer cannot explain', async () => {
    const scorer: Scorer = { labels: ['a'], predict: async () => [], close: async () => undefined };
    expect(await explainExamples(scorer, ['a'], [row('a', 'a', 1)], () => undefined)).toMatchObject({ status: 'unavailable' });
  });

  it('explains the predicted label of each picked row', async () => {
    const asked: [string, string][] = [];
    const scorer: Scorer = {
      labels: ['a', 'b'],
      predict: async () => [],
      explain: async (text, label) => {
        asked.push([text, label]);
        return { label, probability: 0.9, tokens: [{ text, weight: 0.1 }] };
      },
      close: async () => undefined,
    };
    const result = await explainExamples(scorer, ['a', 'b'], [row('a', 'b', 0.8, 'x'), row('b', 'b', 0.7, 'y')], () => undefined);
    expect(asked).toEqual([
      ['x', 'b'],
      ['y', 'b'],
    ]);
    expect(result.status === 'explained' && result.items.map((i) => i.kind)).toEqual(['error', 'sample']);
  });
});
