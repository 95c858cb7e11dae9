import { describe, expect, it } from 'vitest';
import { chunk, frameIds, lengthBuckets, padBatch, softmax, specialFrame, toPredictions } from './batching';

describe('special tokens and truncation', () => {
  it('finds the frame around the content', () => {
    expect(specialFrame([0, 7, 8, 2], [7, 8])).toEqual({ prefix: [0], suffix: [2] });
    expect(specialFrame([101, 7, 102], [7])).toEqual({ prefix: [101], suffix: [102] });
    expect(specialFrame([7, 8, 2], [7, 8])).toEqual({ prefix: [], suffix: [2] });
    expect(specialFrame([7, 8], [7, 8])).toEqual({ prefix: [], suffix: [] });
    expect(specialFrame([0, 9, 2], [7])).toBeNull();
  });

  it('truncates the content and keeps both special tokens, like truncation=True in Python', () => {
    const frame = { prefix: [0], suffix: [2] };
    expect(frameIds([5, 6, 7, 8], frame, 5)).toEqual([0, 5, 6, 7, 2]);
    expect(frameIds([5, 6], frame, 5)).toEqual([0, 5, 6, 2]);
    expect(frameIds([], frame, 5)).toEqual([0, 2]);
    expect(() => frameIds([5], frame, 1)).toThrow(RangeError);
  });
});

describe('padBatch', () => {
  it('right-pads to the longest row with the pad id and masks the padding', () => {
    const b = padBatch(
      [
        [0, 5, 6, 2],
        [0, 7, 2],
      ],
      1,
    );
    expect(b).toMatchObject({ batch: 2, width: 4 });
    expect([...b.inputIds]).toEqual([0n, 5n, 6n, 2n, 0n, 7n, 2n, 1n]);
    expect([...b.attentionMask]).toEqual([1n, 1n, 1n, 1n, 1n, 1n, 1n, 0n]);
  });

  it('handles an empty batch', () => {
    expect(padBatch([], 1)).toMatchObject({ batch: 0, width: 0 });
  });
});

describe('chunk', () => {
  it('splits into batches of at most size', () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunk([], 32)).toEqual([]);
    expect(() => chunk([1], 0)).toThrow(RangeError);
  });
});

describe('lengthBuckets', () => {
  const cost = (lengths: number[], batches: number[][], overhead: number) =>
    batches.reduce((sum, b) => sum + overhead + b.length * Math.max(...b.map((i) => lengths[i]!)), 0);

  it('puts a long text in a batch of its own instead of padding 31 short ones to it', () => {
    const lengths = [...Array<number>(15).fill(8), 128, ...Array<number>(16).fill(8)];
    const batches = lengthBuckets(lengths, 32, 58);
    expect(batches).toEqual([[...Array.from({ length: 15 }, (_, i) => i), ...Array.from({ length: 16 }, (_, i) => 16 + i)], [15]]);
  });

  it('keeps texts of one length in full batches, each index once', () => {
    const batches = lengthBuckets(Array<number>(70).fill(10), 32, 58);
    expect(batches).toHaveLength(3);
    expect(Math.max(...batches.map((b) => b.length))).toBeLessThanOrEqual(32);
    expect(batches.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 70 }, (_, i) => i));
  });

  it('costs no more than any split of the sorted rows (brute force), and never more than one batch or one text per call', () => {
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let trial = 0; trial < 200; trial++) {
      const n = 1 + Math.floor(rand() * 9);
      const lengths = Array.from({ length: n }, () => 3 + Math.floor(rand() * 125));
      const [maxBatch, overhead] = [1 + Math.floor(rand() * 6), Math.floor(rand() * 100)];
      const batches = lengthBuckets(lengths, maxBatch, overhead);
      expect(batches.flat().sort((a, b) => a - b)).toEqual(lengths.map((_, i) => i));
      expect(batches.every((b) => b.length >= 1 && b.length <= maxBatch)).toBe(true);
      const sorted = lengths.map((_, i) => i).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
      let least = Infinity;
      for (let mask = 0; mask < 2 ** (n - 1); mask++) {
        const split: number[][] = [[sorted[0]!]];
        for (let i = 1; i < n; i++) {
          if (mask & (1 << (i - 1))) split.push([sorted[i]!]);
          else split.at(-1)!.push(sorted[i]!);
        }
        if (split.every((b) => b.length <= maxBatch)) least = Math.min(least, cost(lengths, split, overhead));
      }
      expect(cost(lengths, batches, overhead)).toBe(least);
    }
  });

  it('refuses a batch size below one', () => {
    expect(() => lengthBuckets([1], 0, 10)).toThrow(RangeError);
    expect(lengthBuckets([], 32, 10)).toEqual([]);
  });
});

describe('softmax and predictions', () => {
  it('is stable for large logits and sums to 1', () => {
    const p = softmax([1000, 1000, 998]);
    const e = Math.exp(-2);
    expect(p[0]).toBeCloseTo(1 / (2 + e), 12);
    expect(p[2]).toBeCloseTo(e / (2 + e), 12);
    expect(p.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 12);
  });

  it('maps each row to its argmax label and named probabilities; ties go to the first label', () => {
    const preds = toPredictions(['neg', 'neu', 'pos'], new Float32Array([0, 0, 2, 1, 1, 0]), 2);
    expect(preds[0]!.label).toBe('pos');
    expect(Object.keys(preds[0]!.probabilities)).toEqual(['neg', 'neu', 'pos']);
    expect(preds[0]!.probabilities.pos).toBeCloseTo(Math.exp(2) / (2 + Math.exp(2)), 6);
    expect(preds[1]!.label).toBe('neg');
    expect(() => toPredictions(['a', 'b'], new Float32Array(3), 2)).toThrow(/expected 2×2 logits, got 3/);
  });
});
