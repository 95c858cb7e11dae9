import { describe, expect, it } from 'vitest';
import { chunk, frameIds, padBatch, softmax, specialFrame, toPredictions } from './batching';

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
