// Per-slice results for the audit package: the same metrics on groups of messages an auditor
// cares about in Thai social media — by length, and by what the text is written in — so a
// model that only works on long Thai sentences shows it.
import { classificationReport } from './metrics';

const thai = /[\u0E00-\u0E7F]/;
const latin = /[A-Za-z]/;
const emoji = /\p{Extended_Pictographic}/u;

/** The slices one text belongs to (each text is in one length slice and one script slice). */
export function slicesOf(text: string): string[] {
  const chars = [...text].length;
  const length = chars <= 20 ? 'length: ≤20 chars' : chars <= 80 ? 'length: 21-80 chars' : 'length: >80 chars';
  const script = thai.test(text)
    ? latin.test(text)
      ? 'script: Thai + Latin'
      : 'script: Thai only'
    : latin.test(text)
      ? 'script: Latin only'
      : emoji.test(text)
        ? 'script: emoji/symbols only'
        : 'script: other';
  return [length, script];
}

export interface SliceResult {
  slice: string;
  n: number;
  accuracy: number;
  macro_f1: number;
}

export function sliceReport(labels: string[], texts: string[], truth: string[], predicted: string[]): SliceResult[] {
  const groups = new Map<string, number[]>();
  texts.forEach((t, i) => slicesOf(t).forEach((s) => groups.set(s, [...(groups.get(s) ?? []), i])));
  return [...groups.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([slice, idx]) => {
      const r = classificationReport(
        labels,
        idx.map((i) => truth[i]!),
        idx.map((i) => predicted[i]!),
      );
      return { slice, n: idx.length, accuracy: r.accuracy, macro_f1: r.macro_f1 };
    });
}
