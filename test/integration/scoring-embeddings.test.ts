// The model's second ONNX output, `embedding`, through the Node scorer: projected to 32 numbers
// by the fixed projection (domain/embedding-projection.ts), equal to what Python's onnxruntime
// computes and the same across loads, so the test split's embeddings (monitoring's reference)
// and production's are comparable. Also the int8 file beside model.onnx and deploy.json's choice.
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadScorer } from '../../adapters/scoring/onnx-scorer';
import type { Scorer } from '../../adapters/scoring/port';
import { EMBEDDING_PROJECTION, embeddingProjection } from '../../domain/embedding-projection';
import { runPython, tinyDataset, tinyModel, TOKENIZER_PROBES, type TinyModel } from './helpers/tiny-model';

// Each text alone, unpadded, through Python's onnxruntime: the raw pooled embedding.
const PYTHON_EMBEDDINGS = `
import json, sys
sys.path.insert(0, 'slurm')
from pathlib import Path
import numpy as np, onnxruntime as ort
from mlc_train.tokenizer import load_tokenizer
req = json.load(sys.stdin)
d = Path(req['dir'])
tok = load_tokenizer(d, req['maxLength'])
sess = ort.InferenceSession(str(d / 'model.onnx'), providers=['CPUExecutionProvider'])
ids = tok(req['texts'], truncation=True, max_length=req['maxLength'])['input_ids']
out = [sess.run(['embedding'], {'input_ids': np.array([r], dtype=np.int64), 'attention_mask': np.ones((1, len(r)), dtype=np.int64)})[0][0].tolist() for r in ids]
print(json.dumps({'embeddings': out, 'outputs': [o.name for o in sess.get_outputs()]}))
`;

describe('embeddings from the Node scorer', () => {
  let model: TinyModel;
  let scorer: Scorer;
  const texts = [...TOKENIZER_PROBES.filter(Boolean), ...tinyDataset(30, 11).map((r) => r.text)];

  beforeAll(async () => {
    model = await tinyModel();
    scorer = await loadScorer(model.dir, { batchSize: 8 });
  }, 300_000);
  afterAll(async () => {
    await scorer?.close();
  });

  it('adds a 32-number projected embedding to each prediction only when asked', async () => {
    expect(scorer.embeddings).toBe(true);
    expect(scorer.precision).toBe('fp32');
    const plain = await scorer.predict(texts);
    const withEmbeddings = await scorer.predict(texts, { embeddings: true });
    expect(plain.every((p) => p.embedding === undefined)).toBe(true);
    for (const [i, p] of withEmbeddings.entries()) {
      expect(p.embedding).toHaveLength(EMBEDDING_PROJECTION.dimensions);
      expect(p.embedding!.every(Number.isFinite)).toBe(true);
      expect({ label: p.label, probabilities: p.probabilities }).toEqual(plain[i]); // logits untouched
    }
  });

  it('is the projection of the exported embedding Python onnxruntime computes', async () => {
    const ref = await runPython<{ embeddings: number[][]; outputs: string[] }>(PYTHON_EMBEDDINGS, { dir: model.dir, maxLength: 32, texts });
    expect(ref.outputs).toEqual(['logits', 'embedding']);
    const projection = embeddingProjection(ref.embeddings[0]!.length);
    const node = await scorer.predict(texts, { embeddings: true });
    let worst = 0;
    node.forEach((p, i) => projection.project(ref.embeddings[i]!).forEach((v, j) => (worst = Math.max(worst, Math.abs(v - p.embedding![j]!)))));
    expect(worst).toBeLessThan(1e-4); // Node pads batches of 8, Python scores each text alone
  });

  it('gives the same embeddings after a reload, in any batch', async () => {
    const first = await scorer.predict(texts.slice(0, 10), { embeddings: true });
    const again = await loadScorer(model.dir, { batchSize: 1 });
    try {
      const second = await again.predict(texts.slice(0, 10), { embeddings: true });
      second.forEach((p, i) => p.embedding!.forEach((v, j) => expect(Math.abs(v - first[i]!.embedding![j]!)).toBeLessThan(1e-5)));
    } finally {
      await again.close();
    }
  });

  describe('int8', () => {
    let copy: string;
    beforeAll(async () => {
      copy = await mkdtemp(join(tmpdir(), 'mlc-int8-choice-'));
      await cp(model.dir, copy, { recursive: true });
    });
    afterAll(() => rm(copy, { recursive: true, force: true }));

    it('scores with model.int8.onnx when asked, or when deploy.json chose it', async () => {
      const int8 = await loadScorer(model.dir, { precision: 'int8' });
      try {
        expect(int8.precision).toBe('int8');
        const [a, b] = [await scorer.predict(texts), await int8.predict(texts, { embeddings: true })];
        const agree = a.filter((p, i) => p.label === b[i]!.label).length / a.length;
        expect(agree).toBeGreaterThan(0.8);
        expect(b[0]!.embedding).toHaveLength(32);
      } finally {
        await int8.close();
      }
      await writeFile(join(copy, 'deploy.json'), '{"precision": "int8", "file": "model.int8.onnx"}');
      const chosen = await loadScorer(copy);
      expect(chosen.precision).toBe('int8');
      await chosen.close();
    });
  });
});
