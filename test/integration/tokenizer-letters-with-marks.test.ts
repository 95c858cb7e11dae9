// The demo's tokenizer (params.preTokenizer: letters-with-marks) is a Split regex followed by a
// regex-free ByteLevel step, both written into tokenizer.json by Python's tokenizers and read
// back by transformers.js in the Node scorer. The regex is Oniguruma in Python and a rewritten
// JavaScript RegExp in Node: hold the ids equal on the corpus, the scorer's probes and one text
// per code point of the blocks the corpus uses, or served texts get ids the model never saw.
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEncoder } from '../../adapters/scoring/onnx-scorer';
import { REPO_ROOT, runPython, TOKENIZER_PROBES } from './helpers/tiny-model';

const MAX_LENGTH = 128;
// Trains the BPE as train.py does (train split texts, this pre-tokenizer), saves it as train.py
// does, and answers the ids Python gives each text (truncated as training truncates).
const PYTHON = `
import json, sys
sys.path.insert(0, 'slurm')
from mlc_train.tokenizer import train_bpe, save_tokenizer
from pathlib import Path
req = json.load(sys.stdin)
tok = train_bpe(req['train'], 3000, req['maxLength'], 'letters-with-marks')
save_tokenizer(tok, Path(req['dir']))
ids = tok(req['texts'], truncation=True, max_length=req['maxLength'])['input_ids']
print(json.dumps({'ids': ids, 'pieces': [tok.tokenize(t) for t in req['texts'][:3]]}))
`;

const readTexts = (file: string) =>
  readFileSync(join(REPO_ROOT, file), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { text: string }).text);

/** One short text per code point of Thai, Latin-1, general punctuation, and the emoji planes' busiest blocks. */
function codePointTexts(): string[] {
  const blocks: [number, number][] = [
    [0x20, 0x7e],
    [0xa0, 0xff],
    [0x0e00, 0x0e7f],
    [0x2000, 0x206f],
    [0x1f300, 0x1f64f],
    [0x1f900, 0x1f9ff],
  ];
  const texts: string[] = [];
  for (const [a, b] of blocks) for (let c = a; c <= b; c++) texts.push(`ก${String.fromCodePoint(c)}ข 1${String.fromCodePoint(c)} ${String.fromCodePoint(c)}x`);
  return texts;
}

describe('BPE with the letters-with-marks pre-tokenizer: Node tokenizes as Python does', () => {
  let dir: string;
  const texts = [...TOKENIZER_PROBES, ...readTexts('data/wisesight/valid.jsonl').slice(0, 800), ...codePointTexts()];
  let python: { ids: number[][]; pieces: string[][] };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mlc-letters-with-marks-'));
    python = await runPython(PYTHON, { dir, maxLength: MAX_LENGTH, train: readTexts('data/wisesight-sample/train.jsonl'), texts });
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('keeps Thai vowels and tone marks with their letters', () => {
    // 'อาหารอร่อยมากครับ 😊😊': no piece starts with a combining mark.
    const marks = /^[\u0e31\u0e34-\u0e3a\u0e47-\u0e4e]/u;
    const decoded = python.pieces[0]!.map((p) => Buffer.from([...p].map((ch) => byteOf(ch))).toString('utf8'));
    expect(decoded.filter((p) => marks.test(p))).toEqual([]);
  });

  it(`gives the same ids for ${texts.length} texts: corpus, probes and one per code point`, async () => {
    const encoder = await loadEncoder(dir);
    const node = encoder.encode(texts);
    const mismatches = texts.flatMap((t, i) =>
      JSON.stringify(node[i]) === JSON.stringify(python.ids[i]) ? [] : [{ t, node: node[i], python: python.ids[i] }],
    );
    expect(mismatches.slice(0, 3)).toEqual([]);
  });
});

/** GPT-2's byte-to-unicode table, inverted: the byte a ByteLevel piece's character stands for. */
function byteOf(ch: string): number {
  const printable = [...range(0x21, 0x7e), ...range(0xa1, 0xac), ...range(0xae, 0xff)];
  const cp = ch.codePointAt(0)!;
  if (printable.includes(cp)) return cp;
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (printable.includes(b)) continue;
    if (256 + n === cp) return b;
    n++;
  }
  throw new Error(`not a ByteLevel character: ${ch}`);
}

function range(a: number, b: number): number[] {
  return Array.from({ length: b - a + 1 }, (_, i) => a + i);
}
