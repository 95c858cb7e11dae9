// "Why it erred": leave-one-token-out attributions through the ONNX model for the most
// confident errors and a few rows of each class. Bounded (at most 30 texts, each scored once
// per token it has, in batches) so it adds seconds, not minutes, to an evaluation.
import type { Scorer } from '../../adapters/scoring/port';
import type { Explanation, Explanations } from './model';

export const MAX_EXPLAINED = 30;
const MAX_ERRORS = 10;

export interface ScoredRow {
  text: string;
  label: string;
  predicted: string;
  confidence: number;
}

/**
 * Which rows to explain: the most confident errors first (ties by row order), then rows of
 * each class spread evenly over the split, never the same row twice, at most MAX_EXPLAINED.
 */
export function pickExamples(labels: string[], rows: readonly ScoredRow[]): { kind: 'error' | 'sample'; index: number }[] {
  const errors = rows
    .map((r, index) => ({ r, index }))
    .filter(({ r }) => r.label !== r.predicted)
    .sort((a, b) => b.r.confidence - a.r.confidence || a.index - b.index)
    .slice(0, MAX_ERRORS)
    .map(({ index }) => ({ kind: 'error' as const, index }));
  const taken = new Set(errors.map((e) => e.index));
  const perClass = Math.max(1, Math.floor((MAX_EXPLAINED - errors.length) / Math.max(1, labels.length)));
  const samples = labels.flatMap((label) => {
    const ofClass = rows.map((r, index) => ({ r, index })).filter(({ r, index }) => r.label === label && !taken.has(index));
    const step = Math.max(1, ofClass.length / perClass);
    return Array.from({ length: Math.min(perClass, ofClass.length) }, (_, k) => ({ kind: 'sample' as const, index: ofClass[Math.floor(k * step)]!.index }));
  });
  return [...errors, ...samples].slice(0, MAX_EXPLAINED);
}

export const ATTRIBUTION_METHOD =
  "Leave-one-token-out through the ONNX model: a piece's weight is the predicted label's probability on the whole text minus its probability with that piece left out.";

export async function explainExamples(scorer: Scorer, labels: string[], rows: readonly ScoredRow[], onProgress: (done: number) => void): Promise<Explanations> {
  if (!scorer.explain) return { status: 'unavailable', reason: 'this scorer cannot see the tokens it scores, so none were computed.' };
  const items: Explanation[] = [];
  for (const { kind, index } of pickExamples(labels, rows)) {
    const row = rows[index]!;
    items.push({ kind, ...row, attribution: await scorer.explain(row.text, row.predicted) });
    onProgress(items.length);
  }
  return { status: 'explained', method: ATTRIBUTION_METHOD, items };
}
