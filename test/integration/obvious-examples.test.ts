// The hand-written obvious examples the demo checks its deployed model against
// (scripts/check-examples.ts, called by scripts/demo.sh after the showcase): they must stay
// what they claim to be, a few short texts per label, none of them from the corpus (a text the
// model trained on proves nothing), and a miss must turn into a failure, not a quiet line.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkExamples, obviousExamples, reportMisses, SHOWCASE, type Predict } from '../../scripts/check-examples';
import { REPO_ROOT } from './helpers/tiny-model';

const LABELS = ['neg', 'neu', 'pos', 'q'];
const corpus = (file: string) =>
  new Set(
    readFileSync(join(REPO_ROOT, file), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { text: string }).text),
  );

describe('obvious examples (test/fixtures/obvious-examples.jsonl)', () => {
  const examples = obviousExamples();

  it('are 16–24 short texts, at least four per label, none from the Wisesight corpus', () => {
    expect(examples.length).toBeGreaterThanOrEqual(16);
    expect(examples.length).toBeLessThanOrEqual(24);
    for (const label of LABELS) expect(examples.filter((e) => e.label === label).length, label).toBeGreaterThanOrEqual(4);
    for (const e of examples) expect(e.text.length, e.text).toBeLessThanOrEqual(60);
    const seen = new Set([...corpus('data/wisesight/train.jsonl'), ...corpus('data/wisesight/valid.jsonl'), ...corpus('data/wisesight-sample/train.jsonl')]);
    expect(examples.filter((e) => seen.has(e.text))).toEqual([]);
    expect(new Set(examples.map((e) => e.text)).size).toBe(examples.length);
  });

  it('a wrong prediction is reported as a miss and fails the check', async () => {
    const lines: string[] = [];
    const log = console.log;
    console.log = (line: string) => lines.push(line);
    try {
      const alwaysNeutral: Predict = async (texts) => texts.map(() => ({ label: 'neu', probabilities: { neg: 0.1, neu: 0.7, pos: 0.1, q: 0.1 } }));
      const missed = await checkExamples(alwaysNeutral, SHOWCASE, 'showcase');
      expect(missed.map((m) => m.label)).toEqual(['pos', 'neg', 'q']);
      expect(reportMisses(missed)).toBe(false);
      const right: Predict = async (texts) => texts.map((t) => ({ label: SHOWCASE.find((s) => s.text === t)!.label, probabilities: {} }));
      expect(reportMisses(await checkExamples(right, SHOWCASE, 'showcase'))).toBe(true);
    } finally {
      console.log = log;
    }
    expect(lines.some((l) => l.startsWith('✗ q    → neu'))).toBe(true);
    expect(lines.some((l) => l.includes('3 obvious examples wrong'))).toBe(true);
  });
});
