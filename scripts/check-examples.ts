// The texts a person judges the demo's model by: the demo's three showcase texts and the
// hand-written obvious examples in test/fixtures/obvious-examples.jsonl (short Thai messages
// written for this check, not taken from the corpus; a few per label). A model that gets one of
// them wrong is not one to show anyone, whatever its macro-F1, so this prints every text with
// its prediction and exits 1 if any is wrong.
//   node --import tsx scripts/check-examples.ts [--model NAME]   through the running endpoint
// (as the demo does, after the showcase); scripts/eval-recipe.ts calls checkExamples directly.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Example {
  text: string;
  label: string;
}
export type Predict = (texts: string[]) => Promise<{ label: string; probabilities: Record<string, number> }[]>;

export const SHOWCASE: Example[] = [
  { text: 'ร้านนี้อร่อยมาก บริการดีสุดๆ', label: 'pos' },
  { text: 'ส่งของช้ามาก แย่ที่สุด', label: 'neg' },
  { text: 'เปิดกี่โมงครับ', label: 'q' },
];

export const OBVIOUS_EXAMPLES_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../test/fixtures/obvious-examples.jsonl');

export function obviousExamples(file = OBVIOUS_EXAMPLES_FILE): Example[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Example);
}

/** Prints one line per text (✓ or ✗, expected, predicted, confidence) and returns the misses. */
export async function checkExamples(predict: Predict, examples: Example[], title: string): Promise<Example[]> {
  const predictions = await predict(examples.map((e) => e.text));
  const missed: Example[] = [];
  console.log(`── ${title}: ${examples.length} texts`);
  examples.forEach((e, i) => {
    const p = predictions[i]!;
    const ok = p.label === e.label;
    if (!ok) missed.push(e);
    console.log(`${ok ? '✓' : '✗'} ${e.label.padEnd(4)} → ${p.label.padEnd(4)} ${((p.probabilities[p.label] ?? 0) * 100).toFixed(0).padStart(3)}%  ${e.text}`);
  });
  return missed;
}

/** The verdict line: silent agreement is not enough, a miss must be impossible to overlook. */
export function reportMisses(missed: Example[]): boolean {
  if (!missed.length) {
    console.log('all showcase and obvious examples right');
    return true;
  }
  console.log(`\n✗✗ ${missed.length} obvious example${missed.length === 1 ? '' : 's'} wrong: ${missed.map((e) => `"${e.text}" (${e.label})`).join(', ')}`);
  return false;
}

async function main(argv: string[]): Promise<number> {
  const at = argv.indexOf('--model');
  const model = at >= 0 ? argv[at + 1] : undefined;
  const { endpointClient } = await import('../cli/endpoint-client');
  const client = await endpointClient();
  type Scored = { predictions: Awaited<ReturnType<Predict>> };
  const predict: Predict = async (texts) => (await client.post<Scored>('/score', { ...(model ? { model } : {}), texts })).predictions;
  const missed = [
    ...(await checkExamples(predict, SHOWCASE, 'the showcase')),
    ...(await checkExamples(predict, obviousExamples(), `obvious examples (${path.relative(process.cwd(), OBVIOUS_EXAMPLES_FILE)})`)),
  ];
  return reportMisses(missed) ? 0 : 1;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(`check-examples: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  });
}
