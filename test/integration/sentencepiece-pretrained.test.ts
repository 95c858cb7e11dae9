// The pretrained path with the tokenizer type WangchanBERTa and XLM-R use: a SentencePiece-style
// Unigram model behind Metaspace ("▁" for spaces), <pad> = 1. A tiny such folder is built here
// (slurm/tests/sentencepiece_fixture.py; no hub), train.py fine-tunes from it through
// `pretrainedDir`, and the Node scorer must then tokenize every text exactly as Python does and
// score like Python's onnxruntime: the same silent train/serve skew scoring.test.ts guards for
// our own byte-level BPE.
import { readFile, mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEncoder, loadScorer } from '../../adapters/scoring/onnx-scorer';
import { seededRandom } from '../../domain/random';
import { REPO_ROOT, runPython, tinyDataset, TINY_LABELS, TINY_PARAMS, TOKENIZER_PROBES } from './helpers/tiny-model';

const BUILD_AND_TRAIN = `
import json, subprocess, sys
sys.path[:0] = ['slurm', 'slurm/tests']
from pathlib import Path
import numpy as np, onnxruntime as ort
from sentencepiece_fixture import build
from mlc_train.tokenizer import load_tokenizer
req = json.load(sys.stdin)
work = Path(req['work'])
corpus = [json.loads(l)['text'] for l in Path('data/wisesight-sample/train.jsonl').read_text(encoding='utf-8').splitlines() if l.strip()]
build(work / 'pretrained', corpus, req['maxLength'])
run = subprocess.run([sys.executable, 'slurm/train.py', '--config', str(work / 'config.json'), '--data-dir', str(work / 'data'),
                      '--out-dir', str(work / 'out'), '--cache-dir', str(work / 'cache')], capture_output=True, text=True)
if run.returncode != 0:
    print(json.dumps({'error': run.stderr[-4000:] + run.stdout[-2000:]})); sys.exit()
out = work / 'out'
tok = load_tokenizer(out, req['maxLength'])
ids = tok(req['texts'], truncation=True, max_length=req['maxLength'])['input_ids']
sess = ort.InferenceSession(str(out / 'model.onnx'), providers=['CPUExecutionProvider'])
logits = [sess.run(['logits'], {'input_ids': np.array([r], dtype=np.int64), 'attention_mask': np.ones((1, len(r)), dtype=np.int64)})[0][0].tolist() for r in ids]
print(json.dumps({'ids': ids, 'logits': logits, 'pad': tok.pad_token_id, 'unk': tok.unk_token_id, 'vocab': len(tok)}))
`;

/** Every code point the Nmt normalizer drops or turns into a space, each between two words. */
const CONTROL_AND_SPACES = [
  ...Array.from({ length: 8 }, (_, i) => 1 + i),
  0x0b,
  ...Array.from({ length: 18 }, (_, i) => 0x0e + i),
  0x7f,
  0x8f,
  0x9f,
  0x09,
  0x0a,
  0x0c,
  0x0d,
  0x1680,
  0x200b,
  0x200c,
  0x200d,
  0x200e,
  0x200f,
  0x2028,
  0x2029,
  0x2581,
  0xfeff,
  0xfffd,
  0xff5e,
]
  .map((cp) => `ร้าน${String.fromCodePoint(cp)}ดี`)
  .join(' ');

/** Runs of repeated pieces ("5555", "ๆๆ", "!!!"): where equal-scoring segmentations tie and a tokenizer's tie-break shows. */
function repeats(n: number, seed: number): string[] {
  const random = seededRandom(seed);
  const pool = ['5', '!', 'ๆ', 'ล', '?', 'ha', '555', 'ค่ะ', '.', '😂', 'มาก', 'ก', ' '];
  return Array.from({ length: n }, () => Array.from({ length: 1 + Math.floor(random() * 30) }, () => pool[Math.floor(random() * pool.length)]).join(''));
}

interface Reference {
  error?: string;
  ids: number[][];
  logits: number[][];
  pad: number;
  unk: number;
  vocab: number;
}

const softmax = (xs: number[]) => {
  const m = Math.max(...xs);
  const e = xs.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
};

describe('a SentencePiece (Unigram + Metaspace) pretrained folder, as WangchanBERTa ships', () => {
  let work: string;
  let ref: Reference;
  const corpus = async () =>
    (await readFile(join(REPO_ROOT, 'data/wisesight/valid.jsonl'), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .slice(0, 1000)
      .map((l) => (JSON.parse(l) as { text: string }).text);
  let texts: string[];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'mlc-sentencepiece-'));
    // Characters the tiny vocabulary never saw (Chinese, a rare emoji) must fall to <unk> on both sides.
    texts = [
      ...TOKENIZER_PROBES,
      ...(await corpus()),
      ...repeats(1000, 4),
      CONTROL_AND_SPACES,
      '你好 ร้านนี้ 🦩',
      'ราคา   เท่าไหร่\tครับ',
      'ＦＵＬＬ　ｗｉｄｔｈ ①②',
    ];
    const data = join(work, 'data');
    await mkdir(data);
    for (const [split, rows] of [
      ['train', tinyDataset(240, 1)],
      ['valid', tinyDataset(48, 2)],
      ['test', tinyDataset(48, 3)],
    ] as const)
      await writeFile(join(data, `${split}.jsonl`), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const config = { labels: TINY_LABELS, datasetHash: 'f'.repeat(64), pretrainedDir: join(work, 'pretrained'), params: { ...TINY_PARAMS, epochs: 1 } };
    await writeFile(join(work, 'config.json'), JSON.stringify(config));
    ref = await runPython<Reference>(BUILD_AND_TRAIN, { work, texts, maxLength: TINY_PARAMS.maxLength }, 400_000);
    if (ref.error) throw new Error(`train.py failed on the SentencePiece folder:\n${ref.error}`);
  }, 420_000);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('train.py keeps the pretrained tokenizer: the served folder holds the same tokenizer.json', async () => {
    const served = JSON.parse(await readFile(join(work, 'out/tokenizer.json'), 'utf8')) as { model: { type: string }; pre_tokenizer: { type: string } };
    expect(served.model.type).toBe('Unigram');
    expect(served.pre_tokenizer.type).toBe('Metaspace');
    expect(await readFile(join(work, 'out/tokenizer.json'), 'utf8')).toBe(await readFile(join(work, 'pretrained/tokenizer.json'), 'utf8'));
    expect(ref.pad).toBe(1); // XLM-R's ids, not our BPE's
  });

  it('Node tokenizes every text exactly as Python does, <unk> and truncation included', async () => {
    const encoder = await loadEncoder(join(work, 'out'));
    const nodeIds = encoder.encode(texts);
    const mismatches = texts.flatMap((t, i) => (JSON.stringify(nodeIds[i]) === JSON.stringify(ref.ids[i]) ? [] : [{ t, node: nodeIds[i], py: ref.ids[i] }]));
    expect(mismatches, JSON.stringify(mismatches.slice(0, 3))).toEqual([]);
    expect(ref.ids.at(-3)).toContain(ref.unk);
    expect(ref.ids.some((ids) => ids.length === TINY_PARAMS.maxLength)).toBe(true);
  });

  it('scores like Python onnxruntime, in padded batches with pad id 1', async () => {
    const scorer = await loadScorer(join(work, 'out'), { batchSize: 8 });
    try {
      const predictions = await scorer.predict(texts);
      let worst = 0;
      predictions.forEach((p, i) => {
        const expected = softmax(ref.logits[i]!);
        TINY_LABELS.forEach((l, k) => (worst = Math.max(worst, Math.abs(p.probabilities[l]! - expected[k]!))));
      });
      expect(worst).toBeLessThan(1e-5);
    } finally {
      await scorer.close();
    }
  });
});
