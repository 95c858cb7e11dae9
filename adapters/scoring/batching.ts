// The pure half of scoring: special tokens, truncation, padding, batching and softmax, kept
// apart from onnxruntime so they are tested without a model. They must match what
// slurm/mlc_train does in Python (tokenizer(..., truncation=True, max_length) and its
// PadCollator), or the model sees inputs it was never trained on.
import type { Prediction } from './port';

/** The special tokens the tokenizer's post-processor puts around one sequence, e.g. <s> … </s>. */
export interface SpecialFrame {
  prefix: number[];
  suffix: number[];
}

/**
 * Recovers the frame from one text encoded with and without special tokens: the content ids
 * must appear unchanged inside. Returns null if they do not (a post-processor that rewrites
 * the content, which no single-sequence RoBERTa/BERT template does).
 */
export function specialFrame(withSpecials: readonly number[], withoutSpecials: readonly number[]): SpecialFrame | null {
  const extra = withSpecials.length - withoutSpecials.length;
  if (extra < 0) return null;
  for (let p = 0; p <= extra; p++) {
    let same = true;
    for (let i = 0; i < withoutSpecials.length && same; i++) same = withSpecials[p + i] === withoutSpecials[i];
    if (same) return { prefix: withSpecials.slice(0, p), suffix: withSpecials.slice(p + withoutSpecials.length) };
  }
  return null;
}

/**
 * Truncates the content, not the frame, to fit maxLength, as Hugging Face tokenizers do with
 * truncation=True: "<s> a b c d </s>" at 5 is "<s> a b c </s>". (transformers.js slices the
 * framed ids instead and would drop </s>, which the model has never seen missing.)
 */
export function frameIds(content: readonly number[], frame: SpecialFrame, maxLength: number): number[] {
  const room = maxLength - frame.prefix.length - frame.suffix.length;
  if (room < 0) throw new RangeError(`maxLength ${maxLength} leaves no room for ${frame.prefix.length + frame.suffix.length} special tokens`);
  return [...frame.prefix, ...content.slice(0, room), ...frame.suffix];
}

export interface PaddedBatch {
  /** int64 [batch, width], row-major; padding on the right with the pad id. */
  inputIds: BigInt64Array;
  /** int64 [batch, width]: 1 on real tokens, 0 on padding. */
  attentionMask: BigInt64Array;
  batch: number;
  width: number;
}

/** Right-pads every row to the batch's longest (dynamic padding, like the training collator). */
export function padBatch(rows: readonly (readonly number[])[], padId: number): PaddedBatch {
  const batch = rows.length;
  const width = rows.reduce((w, r) => Math.max(w, r.length), 0);
  const inputIds = new BigInt64Array(batch * width).fill(BigInt(padId));
  const attentionMask = new BigInt64Array(batch * width);
  rows.forEach((row, r) => {
    for (let i = 0; i < row.length; i++) {
      inputIds[r * width + i] = BigInt(row[i]!);
      attentionMask[r * width + i] = 1n;
    }
  });
  return { inputIds, attentionMask, batch, width };
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`batch size must be a positive integer, got ${size}`);
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Groups rows of different lengths into batches that waste little on padding. A batch costs
 * about one call's overhead plus its rows × its width (the longest row), so one batch of 32
 * mixed texts pads most of them to the longest and pays for tokens that do not exist, while 32
 * batches of one pay 32 overheads. The rows are sorted by length and split where that sum is
 * least (an exact dynamic programme over the sorted order, O(rows × maxBatch)); the model's
 * answers do not depend on the grouping (masked pooling), so callers put them back in order.
 * `overheadTokens`: one call's fixed cost in padded tokens (calibrated: onnx-scorer.ts).
 */
export function lengthBuckets(lengths: readonly number[], maxBatch: number, overheadTokens: number): number[][] {
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new RangeError(`batch size must be a positive integer, got ${maxBatch}`);
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
  const n = order.length;
  // best[j]: least cost of the first j sorted rows; cut[j]: where its last batch starts.
  const best = new Float64Array(n + 1).fill(Infinity);
  const cut = new Int32Array(n + 1);
  best[0] = 0;
  for (let j = 1; j <= n; j++) {
    const width = lengths[order[j - 1]!]!;
    for (let i = Math.max(0, j - maxBatch); i < j; i++) {
      const cost = best[i]! + overheadTokens + (j - i) * width;
      if (cost < best[j]!) {
        best[j] = cost;
        cut[j] = i;
      }
    }
  }
  const batches: number[][] = [];
  for (let j = n; j > 0; j = cut[j]!) batches.push(order.slice(cut[j], j));
  return batches.reverse();
}

/** Softmax of one row, in float64 and shifted by the max so large logits do not overflow. */
export function softmax(logits: ArrayLike<number>): number[] {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  const exps = Array.from({ length: logits.length }, (_, i) => Math.exp(logits[i]! - max));
  const sum = exps.reduce((s, x) => s + x, 0);
  return exps.map((x) => x / sum);
}

/**
 * Turns a flat [batch, nLabels] logits buffer into predictions. The label is the argmax; a
 * tie goes to the earlier label, as numpy's and torch's argmax do.
 */
export function toPredictions(labels: readonly string[], logits: ArrayLike<number>, batch: number): Prediction[] {
  const k = labels.length;
  if (logits.length !== batch * k) throw new RangeError(`expected ${batch}×${k} logits, got ${logits.length}`);
  const out: Prediction[] = [];
  for (let r = 0; r < batch; r++) {
    const row = Array.prototype.slice.call(logits, r * k, (r + 1) * k) as number[];
    const p = softmax(row);
    let best = 0;
    for (let i = 1; i < k; i++) if (p[i]! > p[best]!) best = i;
    const probabilities: Record<string, number> = {};
    labels.forEach((l, i) => (probabilities[l] = p[i]!));
    out.push({ label: labels[best]!, probabilities });
  }
  return out;
}
