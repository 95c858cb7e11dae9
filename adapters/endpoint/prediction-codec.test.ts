import { describe, expect, it } from 'vitest';
import type { Prediction } from '../scoring/port';
import { packPredictions, transferables, unpackPredictions } from './prediction-codec';

const labels = ['neg', 'neu', 'pos'];
const p = (label: string, probs: number[], embedding?: number[]): Prediction => ({
  label,
  probabilities: Object.fromEntries(labels.map((l, i) => [l, probs[i]!])),
  ...(embedding && { embedding }),
});

describe('prediction codec', () => {
  it('gives back exactly what it packed, probabilities and embeddings bit for bit', () => {
    const predictions = [p('pos', [0.1, 0.2, 0.7], [0.1 + 0.2, -1e-300, 3]), p('neg', [0.8, 0.15, 0.05000000000000001], [0, 1, 2])];
    const packed = packPredictions(labels, predictions)!;
    expect(transferables(packed)).toHaveLength(3);
    expect(unpackPredictions(labels, packed)).toEqual(predictions);
  });

  it('packs predictions without embeddings, and none at all', () => {
    const predictions = [p('neu', [0.3, 0.4, 0.3])];
    const packed = packPredictions(labels, predictions)!;
    expect(packed.embedding).toBeUndefined();
    expect(unpackPredictions(labels, packed)).toEqual(predictions);
    expect(unpackPredictions(labels, packPredictions(labels, [])!)).toEqual([]);
  });

  it('refuses to pack what it would change: another field, an unknown label, a missing probability, uneven embeddings', () => {
    expect(packPredictions(labels, [{ ...p('pos', [0, 0, 1]), margin: 1 } as Prediction])).toBeNull();
    expect(packPredictions(labels, [p('maybe', [0, 0, 1])])).toBeNull();
    expect(packPredictions(labels, [{ label: 'pos', probabilities: { neg: 0, pos: 1 } }])).toBeNull();
    expect(packPredictions(labels, [p('pos', [0, 0, 1], [1, 2]), p('pos', [0, 0, 1])])).toBeNull();
  });
});
