// Shared by evaluation and monitoring: read labelled rows, score them in batches.
import type { PredictOptions, Prediction, Scorer } from '../adapters/scoring/port';

export interface LabelledRow {
  text: string;
  label: string;
}

/** Rows written by our own preprocessing or feedback export: one {text,label} per line. */
export function parseJsonl(bytes: Buffer | string): LabelledRow[] {
  const body = typeof bytes === 'string' ? bytes : bytes.toString('utf8');
  return body
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as LabelledRow);
}

/** Score in chunks so long sets report progress (activity heartbeats) as they go. */
export async function scoreAll(
  scorer: Scorer,
  texts: string[],
  onProgress: (done: number) => void,
  chunk = 256,
  options: PredictOptions = {},
): Promise<Prediction[]> {
  const out: Prediction[] = [];
  for (let i = 0; i < texts.length; i += chunk) {
    out.push(...(await scorer.predict(texts.slice(i, i + chunk), options)));
    onProgress(out.length);
  }
  return out;
}
