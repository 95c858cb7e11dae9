// normalizeText (domain/dataset.ts: preprocess, the local endpoint, monitoring) and normalize_text
// (adapters/azureml/package/score.py: the Azure endpoint) are one function written twice. If they
// differ on a text, Azure serves the model a text it was never trained on and nobody notices, so
// hold them equal, string for string, on corpus texts that exercise every fold, edge cases, and
// seeded random strings made of the characters the folds and the whitespace rules care about.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NORMALIZATION, PACKAGE_SOURCE_DIR } from '../../adapters/azureml/package';
import { normalizeText } from '../../domain/dataset';
import { seededRandom } from '../../domain/random';
import { REPO_ROOT } from './helpers/tiny-model';

// The pinned stand-in for the Azure ML environment (scripts/setup.sh), where score.py's imports resolve.
const SERVING_PYTHON = join(REPO_ROOT, '.venv-serving/bin/python');
const DRIVER = `
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location('score', sys.argv[1])
score = importlib.util.module_from_spec(spec)
spec.loader.exec_module(score)
texts = json.loads(sys.stdin.buffer.read().decode('utf-8'))
once = [score.normalize_text(t) for t in texts]
print(json.dumps({'version': score.NORMALIZATION, 'once': once, 'twice': [score.normalize_text(t) for t in once]}))
`;

/** Corpus rows the folds change (laughter, ๆ, long runs, emoji), then ordinary ones: 300 in all. */
function corpusTexts(): string[] {
  const texts = readFileSync(join(REPO_ROOT, 'data/wisesight/train.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { text: string }).text);
  const folded = texts.filter((t) => /5{3}|ถ{3}|ๆ|(.)\1{3}|\p{Extended_Pictographic}/u.test(t)).slice(0, 220);
  return [...folded, ...texts.filter((t) => !folded.includes(t)).slice(0, 300 - folded.length)];
}

const EDGE_CASES = [
  'มากกกกกก',
  'มากก',
  '5555555',
  '555',
  '55',
  'ฮา 5555+',
  'ราคา 1555 บาท',
  'โทร 0815555555',
  '๕๕๕๕',
  'ถถถถถ',
  'ถถถ5555ถถถ',
  '555ถูกมาก',
  '55ถถถ',
  'รถถถถ',
  'ดี ๆ ๆ ครับ',
  'ดีๆๆๆๆ',
  ' ๆ เริ่มด้วยไม้ยมก',
  'สู้ๆนะคร้าฟผมๆๆๆๆๆ',
  '😍😍😍😍😍😍',
  '❤️❤️❤️❤️❤️',
  '❤️❤❤️❤️❤️',
  '👍🏻👍🏻👍🏻👍🏻👍🏻',
  '👍👍🏽👍🏽👍🏽👍🏽',
  '!!!!!!???....',
  'ค่ะะะะะ',
  'น้ำำำำ',
  'a\u0301\u0301\u0301\u0301\u0301',
  'กิน\u200bข้าว\u00a0\u00a0ยัง\u0085 ๆ',
  '\u200b ๆ \ufeff',
  '1000000',
  '๑๑๑๑๑',
];

/** Strings drawn from the characters the rules act on, so the random ones hit every branch. */
function randomTexts(n: number): string[] {
  const alphabet = [...'5555๕ถถถๆๆ  กา่้ะ1๑!', '\u00a0', '\t', '\u200b', '\ufeff', '\u0085', '😍', '❤', '\ufe0f', '👍', '🏻', '\u0301'];
  const random = seededRandom(2026);
  return Array.from({ length: n }, () => {
    const length = 1 + Math.floor(random() * 24);
    return Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
  });
}

describe('text normalisation: normalizeText (Node) and score.py normalize_text (Azure) agree', () => {
  const texts = [...corpusTexts(), ...EDGE_CASES, ...randomTexts(400)];

  it(`gives the same string for ${300 + EDGE_CASES.length} corpus and edge-case texts and 400 random ones, and both are idempotent`, () => {
    const done = spawnSync(SERVING_PYTHON, ['-c', DRIVER, join(PACKAGE_SOURCE_DIR, 'score.py')], { input: JSON.stringify(texts), encoding: 'utf8' });
    expect(done.error, `${SERVING_PYTHON} (scripts/setup.sh builds .venv-serving)`).toBeUndefined();
    expect(done.status, done.stderr).toBe(0);
    const python = JSON.parse(done.stdout) as { version: string; once: string[]; twice: string[] };
    expect(python.version).toBe(NORMALIZATION);
    const mismatches = texts.map((t, i) => ({ text: t, node: normalizeText(t), python: python.once[i] })).filter((m) => m.node !== m.python);
    expect(mismatches.slice(0, 5)).toEqual([]);
    expect(python.twice).toEqual(python.once);
    for (const t of python.once) expect(normalizeText(t)).toBe(t);
  });
});
