// The Node scorer's own byte-level BPE (adapters/scoring/byte-level-bpe.ts) must give exactly the
// ids transformers.js gives, for both pre-tokenizers train.py writes, on the corpus, every code
// point of the blocks it uses, random strings and texts holding special tokens (which it hands
// back). Python's ids are held by tokenizer-letters-with-marks.test.ts and scoring.test.ts.
import * as transformers from '@huggingface/transformers';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { byteLevelBpe } from '../../adapters/scoring/byte-level-bpe';
import { alignByteLevelWhitespace } from '../../adapters/scoring/onnx-scorer';
import { REPO_ROOT, runPython, TOKENIZER_PROBES } from './helpers/tiny-model';

const TRAIN = `
import json, sys
sys.path.insert(0, 'slurm')
from mlc_train.tokenizer import train_bpe, save_tokenizer
from pathlib import Path
req = json.load(sys.stdin)
for kind in ('gpt2', 'letters-with-marks'):
    save_tokenizer(train_bpe(req['train'], 2000, 128, kind), Path(req['dir']) / kind)
print('{}')
`;

const SPECIALS = /<s>|<\/s>|<pad>|<unk>|<mask>/;

const corpus = (file: string) =>
  readFileSync(join(REPO_ROOT, file), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { text: string }).text);

function texts(): string[] {
  const out = [...TOKENIZER_PROBES, ...corpus('data/wisesight/valid.jsonl').slice(0, 1500)];
  for (const [a, b] of [
    [0x00, 0x24f],
    [0x0e00, 0x0e7f],
    [0x2000, 0x206f],
    [0xfe00, 0xffff],
    [0x1f300, 0x1f64f],
  ])
    for (let c = a!; c <= b!; c++) out.push(`ก${String.fromCodePoint(c)}ข 1${String.fromCodePoint(c)}  ${String.fromCodePoint(c)}x มากกก`);
  let seed = 11;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const alphabet = [...'กขคงจฉชซญดตถทนบปผพฟมยรลวศสหอฮะาำิีึืุูเแโใไ่้๊๋็์ๆ๑๒ abcXYZ019 \t\n.,!?\'"😊👍🏽\u200b\u00a0\u0085\ufeff'];
  for (let i = 0; i < 400; i++) out.push(Array.from({ length: 1 + Math.floor(rand() * 60) }, () => alphabet[Math.floor(rand() * alphabet.length)]).join(''));
  // Pieces far longer than any above (a message with no space in it): the merge queue grows.
  out.push('ร้านนี้อร่อยมากกกก'.repeat(300), 'ดีมากๆ5555'.repeat(120) + ' ' + 'ก'.repeat(3000));
  return out;
}

describe.each(['gpt2', 'letters-with-marks'])('byte-level BPE, %s pre-tokenizer: the fast path gives transformers.js ids', (kind) => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mlc-bpe-'));
    await runPython(TRAIN, { dir, train: corpus('data/wisesight-sample/train.jsonl') });
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('on the corpus, every code point of its blocks and random strings; special tokens go back to transformers.js', async () => {
    const json = JSON.parse(await readFile(join(dir, kind, 'tokenizer.json'), 'utf8')) as unknown;
    const config = JSON.parse(await readFile(join(dir, kind, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
    const reference = new transformers.PreTrainedTokenizer(json, config);
    alignByteLevelWhitespace(reference);
    const fast = byteLevelBpe(json, reference);
    expect(fast, 'the fast path takes this tokenizer').not.toBeNull();
    const all = texts();
    const mismatches = all.flatMap((t) => {
      const want = reference.encode(t, { add_special_tokens: false });
      const got = fast!.encode(t);
      if (got === null && SPECIALS.test(t)) return []; // handed back, as it should be
      return JSON.stringify(got) === JSON.stringify(want) ? [] : [{ t, got, want }];
    });
    expect(mismatches.slice(0, 3)).toEqual([]);
    // Twice: the second pass comes from its cache of pieces.
    const again = all.filter((t) => !SPECIALS.test(t)).slice(0, 50);
    expect(again.map((t) => fast!.encode(t))).toEqual(again.map((t) => reference.encode(t, { add_special_tokens: false })));
    expect(fast!.encode('ดีมาก <s> จริง')).toBeNull();
    expect(fast!.encode('<mask>')).toBeNull();
  });
});

describe('byte-level BPE: what it does not take', () => {
  it('refuses a tokenizer with a normalizer, dropout or another model, so transformers.js keeps it', () => {
    const bpe = { type: 'BPE', vocab: { a: 0 }, merges: [] };
    const built = { _tokenizer: { pre_tokenizer: { pattern: /./gu } } };
    const pre = { type: 'ByteLevel', add_prefix_space: false, use_regex: true };
    expect(byteLevelBpe({ model: bpe, pre_tokenizer: pre }, built)).not.toBeNull();
    expect(byteLevelBpe({ model: bpe, pre_tokenizer: pre, normalizer: { type: 'NFKC' } }, built)).toBeNull();
    expect(byteLevelBpe({ model: { ...bpe, dropout: 0.1 }, pre_tokenizer: pre }, built)).toBeNull();
    expect(byteLevelBpe({ model: { ...bpe, type: 'Unigram' }, pre_tokenizer: pre }, built)).toBeNull();
    expect(byteLevelBpe({ model: bpe, pre_tokenizer: { ...pre, add_prefix_space: true } }, built)).toBeNull();
    expect(byteLevelBpe({ model: bpe, pre_tokenizer: { type: 'Metaspace' } }, built)).toBeNull();
  });
});
