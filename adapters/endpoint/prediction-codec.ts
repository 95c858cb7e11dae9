// Predictions as they cross from the scoring thread to the event loop. Structured cloning an
// array of small objects costs more than scoring them (about a tenth of the thread's time, and
// as much again on the event loop, in bench/endpoint.ts's profile); typed arrays move for free
// (transferred, not copied). So the thread packs label indices, probabilities and embeddings
// into typed arrays, and the event loop rebuilds the same objects. Predictions with anything
// else in them are sent as they are, so a field added to Prediction later is never dropped.
import type { Prediction } from '../scoring/port';

export interface PackedPredictions {
  count: number;
  /** Index into the labels of each prediction's label. */
  label: Uint16Array;
  /** count × labels, row-major, in label order. */
  probabilities: Float64Array;
  /** count × embeddingSize, row-major; absent when no prediction has one. */
  embedding?: Float64Array;
  embeddingSize?: number;
}

const KNOWN = new Set(['label', 'probabilities', 'embedding']);

/** Packs predictions over `labels`; null when they hold something the packing does not know (send them as they are). */
export function packPredictions(labels: readonly string[], predictions: readonly Prediction[]): PackedPredictions | null {
  const count = predictions.length;
  const k = labels.length;
  const index = new Map(labels.map((l, i) => [l, i]));
  const embeddingSize = predictions[0]?.embedding?.length;
  const label = new Uint16Array(count);
  const probabilities = new Float64Array(count * k);
  const embedding = embeddingSize !== undefined ? new Float64Array(count * embeddingSize) : undefined;
  for (let r = 0; r < count; r++) {
    const p = predictions[r]!;
    const at = index.get(p.label);
    if (at === undefined || Object.keys(p).some((key) => !KNOWN.has(key)) || Object.keys(p.probabilities).length !== k) return null;
    if ((p.embedding?.length ?? undefined) !== embeddingSize) return null;
    label[r] = at;
    for (let c = 0; c < k; c++) {
      const v = p.probabilities[labels[c]!];
      if (v === undefined) return null;
      probabilities[r * k + c] = v;
    }
    if (embedding && p.embedding) embedding.set(p.embedding, r * embeddingSize!);
  }
  return { count, label, probabilities, ...(embedding && { embedding, embeddingSize }) };
}

/** The buffers to transfer with a packed message. */
export function transferables(packed: PackedPredictions): ArrayBuffer[] {
  return [packed.label.buffer, packed.probabilities.buffer, ...(packed.embedding ? [packed.embedding.buffer] : [])] as ArrayBuffer[];
}

/** The predictions packPredictions packed, equal to the originals. */
export function unpackPredictions(labels: readonly string[], packed: PackedPredictions): Prediction[] {
  const k = labels.length;
  const size = packed.embeddingSize ?? 0;
  const out = new Array<Prediction>(packed.count);
  for (let r = 0; r < packed.count; r++) {
    const probabilities: Record<string, number> = {};
    for (let c = 0; c < k; c++) probabilities[labels[c]!] = packed.probabilities[r * k + c]!;
    const p: Prediction = { label: labels[packed.label[r]!]!, probabilities };
    if (packed.embedding) p.embedding = Array.from(packed.embedding.subarray(r * size, (r + 1) * size));
    out[r] = p;
  }
  return out;
}
