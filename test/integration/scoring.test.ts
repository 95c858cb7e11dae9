// The ONNX scorer against a model the real slurm/train.py produced. The risk it guards is
// silent: a Node tokenizer that splits a text differently from the Python one still returns
// confident predictions, just for a different input. So ids, pieces and probabilities are
// compared with Python's on texts chosen to break tokenizers.
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelFileMissingError, ScorerClosedError, ScoringError } from '../../adapters/scoring/errors';
import { loadEncoder, loadScorer, readLabels } from '../../adapters/scoring/onnx-scorer';
import type { Scorer } from '../../adapters/scoring/port';
import { seededRandom } from '../../domain/random';
import { runPython, tinyDataset, tinyModel, TINY_PARAMS, TOKENIZER_PROBES, type TinyModel } from './helpers/tiny-model';

// Loads the folder exactly as train.py does (mlc_train.tokenizer.load_tokenizer, then
// tokenizer(texts, truncation=True, max_length)), and scores each text alone, unpadded, with
// the PyTorch checkpoint and with Python's onnxruntime.
const PYTHON_REFERENCE = `
import json, sys
sys.path.insert(0, 'slurm')
from pathlib import Path
import numpy as np, torch, onnxruntime as ort
from mlc_train.tokenizer import load_tokenizer
from mlc_train.model import load_model
req = json.load(sys.stdin)
d, L = Path(req['dir']), req['maxLength']
tok = load_tokenizer(d, L)
ids = tok(req['texts'], truncation=True, max_length=L)['input_ids'] if req['texts'] else []
model, _ = load_model(d / 'model.pt')
sess = ort.InferenceSession(str(d / 'model.onnx'), providers=['CPUExecutionProvider'])
with torch.no_grad():
    torch_logits = [model(torch.tensor([r]), torch.ones(1, len(r), dtype=torch.long))[0].tolist() for r in ids]
ort_logits = [sess.run(['logits'], {'input_ids': np.array([r], dtype=np.int64), 'attention_mask': np.ones((1, len(r)), dtype=np.int64)})[0][0].tolist() for r in ids]
pre = tok.backend_tokenizer.pre_tokenizer
pieces = [[p for p, _ in pre.pre_tokenize_str(t)] for t in req['pieceTexts']]
print(json.dumps({'ids': ids, 'torch': torch_logits, 'ort': ort_logits, 'pieces': pieces, 'eos': tok.eos_token_id}))
`;

interface Reference {
  ids: number[][];
  torch: number[][];
  ort: number[][];
  pieces: string[][];
  eos: number;
}

function softmax(xs: number[]): number[] {
  const m = Math.max(...xs);
  const e = xs.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

/** Random strings from pools that mix scripts, marks, emoji pieces and odd whitespace. */
function fuzzTexts(n: number, seed: number): string[] {
  const random = seededRandom(seed);
  const pools = [
    'กขคงจฉชซญฎฐดตถทธนบปผพฟภมยรลวศษสหฬอฮะัาำิีึืุูเแโใไ็่้๊๋์ๆ๏๐๑๒๓',
    'abcXYZ',
    "'s't're've'm'll'd'S'T",
    ' \t\n\r\u000b\u000c\u0085\u00a0\u1680\u2003\u200b\u2028\u202f\u3000\ufeff',
    '0123456789٠١٢',
    '.,!?;:-_()[]{}"\'`~@#$%^&*+=<>/\\|',
    '😀😊👍🏽👨‍👩‍👧❤️🇹🇭1️⃣🙏🏻',
    'éèüñçÅ\u0301\u0308',
    '漢字かなカナ한국어',
    'ÀΩДж',
    '\u0000\u0001\u007f\u200d\ufe0f',
  ].map((p) => [...p]);
  return Array.from({ length: n }, () => {
    let s = '';
    const len = 1 + Math.floor(random() * 30);
    for (let j = 0; j < len; j++) {
      const pool = pools[Math.floor(random() * pools.length)]!;
      s += pool[Math.floor(random() * pool.length)];
    }
    return s;
  });
}

/** "x" + c + "'x1" for every code point in the blocks this corpus uses: any class disagreement shows. */
function codePointTexts(): { cps: number[]; texts: string[] } {
  const blocks: [number, number][] = [
    [0x0000, 0x07ff], // Latin, Greek, Cyrillic, Arabic... and the C0/C1 controls
    [0x0e00, 0x0e7f], // Thai
    [0x1e00, 0x1eff],
    [0x2000, 0x2bff], // punctuation, spaces, symbols, arrows
    [0x3000, 0x303f],
    [0xfe00, 0xfe0f], // variation selectors
    [0xfe30, 0xfffd], // compatibility forms, fullwidth, specials, BOM
    [0x1f000, 0x1faff], // emoji
    [0xe0000, 0xe007f], // tags (subdivision flags)
  ];
  const cps: number[] = [];
  for (const [a, b] of blocks) for (let c = a; c <= b; c++) cps.push(c);
  return { cps, texts: cps.map((c) => `x${String.fromCodePoint(c)}'x1 ${String.fromCodePoint(c)}${String.fromCodePoint(c)}`) };
}

describe('ONNX scorer on a model trained by slurm/train.py', () => {
  let model: TinyModel;
  let scorer: Scorer;
  let labels: string[];
  const texts = [...TOKENIZER_PROBES, ...tinyDataset(40, 99).map((r) => r.text), ...fuzzTexts(300, 5)];

  beforeAll(async () => {
    model = await tinyModel();
    labels = await readLabels(model.dir);
    scorer = await loadScorer(model.dir, { batchSize: 7 });
  });
  afterAll(async () => {
    await scorer?.close();
  });

  it('predicts a label from labels.json with probabilities that sum to 1', async () => {
    expect(scorer.labels).toEqual(labels);
    const predictions = await scorer.predict(texts);
    expect(predictions).toHaveLength(texts.length);
    for (const p of predictions) {
      expect(labels).toContain(p.label);
      expect(Object.keys(p.probabilities)).toEqual(labels);
      const sum = Object.values(p.probabilities).reduce((a, b) => a + b, 0);
      expect(Math.abs(sum - 1)).toBeLessThan(1e-9);
      expect(p.probabilities[p.label]).toBe(Math.max(...Object.values(p.probabilities)));
    }
    expect(await scorer.predict([])).toEqual([]);
  });

  it('tokenizes exactly as train.py does, and scores like PyTorch and Python onnxruntime', async () => {
    const encoder = await loadEncoder(model.dir);
    expect(encoder.maxLength).toBe(TINY_PARAMS.maxLength); // read from tokenizer_config.json
    const ref = await runPython<Reference>(PYTHON_REFERENCE, { dir: model.dir, maxLength: encoder.maxLength, texts, pieceTexts: [] });

    const nodeIds = encoder.encode(texts);
    const idMismatches = texts.map((t, i) => ({ t, node: nodeIds[i], py: ref.ids[i] })).filter((m) => JSON.stringify(m.node) !== JSON.stringify(m.py));
    expect(idMismatches, JSON.stringify(idMismatches.slice(0, 3))).toEqual([]);

    // Truncation keeps </s>, as Hugging Face's does.
    const long = nodeIds[TOKENIZER_PROBES.findIndex((t) => t.length > 200)]!;
    expect(long).toHaveLength(TINY_PARAMS.maxLength);
    expect(long.at(-1)).toBe(ref.eos);

    const predictions = await scorer.predict(texts);
    let worstTorch = 0;
    let worstOrt = 0;
    predictions.forEach((p, i) => {
      const torch = softmax(ref.torch[i]!);
      const ort = softmax(ref.ort[i]!);
      labels.forEach((l, k) => {
        worstTorch = Math.max(worstTorch, Math.abs(p.probabilities[l]! - torch[k]!));
        worstOrt = Math.max(worstOrt, Math.abs(p.probabilities[l]! - ort[k]!));
      });
    });
    // Node scores in padded batches of 7, Python one unpadded text at a time.
    expect(worstTorch).toBeLessThan(1e-5);
    expect(worstOrt).toBeLessThan(1e-5);
  });

  it('splits text into the same pieces as Python for every code point of the blocks this corpus uses', async () => {
    const encoder = await loadEncoder(model.dir);
    const { cps, texts: cpTexts } = codePointTexts();
    const ref = await runPython<Reference>(PYTHON_REFERENCE, { dir: model.dir, maxLength: encoder.maxLength, texts: [], pieceTexts: cpTexts });
    const differing = cpTexts.flatMap((t, i) =>
      JSON.stringify(encoder.pieces(t)) === JSON.stringify(ref.pieces[i]) ? [] : [`U+${cps[i]!.toString(16).toUpperCase().padStart(4, '0')}`],
    );
    expect(differing).toEqual([]);
  });

  it('counts each text’s tokens for monitoring when asked: length with specials, the cut, fallback pieces', async () => {
    const encoder = await loadEncoder(model.dir);
    const some = [...TOKENIZER_PROBES, '你好你好 懂了'];
    const plain = await scorer.predict(some);
    const counted = await scorer.predict(some, { tokenStats: true });
    expect(plain[0]!.tokenStats).toBeUndefined();
    counted.forEach((p, i) => {
      expect(p.probabilities).toEqual(plain[i]!.probabilities); // counting changes nothing about the scores
      expect(p.tokenStats!.count).toBe(encoder.encode([some[i]!])[0]!.length);
    });
    const long = TOKENIZER_PROBES.findIndex((t) => t.length > 200);
    expect(counted[long]!.tokenStats).toMatchObject({ count: TINY_PARAMS.maxLength, truncated: true });
    for (const p of counted)
      expect(p.tokenStats!.truncated ? p.tokenStats!.count === TINY_PARAMS.maxLength : p.tokenStats!.count <= TINY_PARAMS.maxLength).toBe(true);
    expect(counted.some((p) => !p.tokenStats!.truncated)).toBe(true);
    // Chinese the byte-level vocabulary never saw falls apart into single bytes and characters.
    const chinese = counted.at(-1)!.tokenStats!;
    expect(chinese.fallback / chinese.count).toBeGreaterThan(0.5);
    expect(counted[0]!.tokenStats!.fallback).toBeLessThan(counted[0]!.tokenStats!.count);
  });

  it('scores a text the same whatever batch it is in', async () => {
    const some = texts.slice(0, 12);
    const batched = await scorer.predict(some);
    const alone = await loadScorer(model.dir, { batchSize: 1 });
    try {
      const single = await alone.predict(some);
      single.forEach((p, i) => labels.forEach((l) => expect(Math.abs(p.probabilities[l]! - batched[i]!.probabilities[l]!)).toBeLessThan(1e-5)));
    } finally {
      await alone.close();
    }
  });

  describe('errors', () => {
    let broken: string;
    beforeAll(async () => {
      broken = await mkdtemp(join(tmpdir(), 'mlc-broken-model-'));
    });
    afterAll(async () => {
      await rm(broken, { recursive: true, force: true });
    });

    async function copyWithout(file: string): Promise<string> {
      const dir = join(broken, file);
      await cp(model.dir, dir, { recursive: true });
      await rm(join(dir, file));
      return dir;
    }

    it('names a missing file and what writes it', async () => {
      for (const file of ['model.onnx', 'labels.json', 'tokenizer.json', 'tokenizer_config.json']) {
        const dir = await copyWithout(file);
        const error = await loadScorer(dir).then(
          () => null,
          (e: unknown) => e,
        );
        expect(error, file).toBeInstanceOf(ModelFileMissingError);
        expect((error as ModelFileMissingError).file).toBe(file);
        expect((error as Error).message).toContain(`${file} not found in ${dir}`);
        expect((error as Error).message).toContain('slurm/train.py');
      }
    });

    it('refuses a maxLength beyond what the model was trained for', async () => {
      await expect(loadScorer(model.dir, { maxLength: TINY_PARAMS.maxLength + 1 })).rejects.toThrow(ScoringError);
      await expect(loadScorer(model.dir, { maxLength: TINY_PARAMS.maxLength + 1 })).rejects.toThrow(/trained for/);
    });

    it('refuses to predict after close', async () => {
      const s = await loadScorer(model.dir);
      await s.close();
      await s.close();
      await expect(s.predict(['a'])).rejects.toBeInstanceOf(ScorerClosedError);
    });
  });
});
