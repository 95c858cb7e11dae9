// The local endpoint serving a real model from slurm/train.py with the real ONNX scorer.
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FeedbackRecord, PredictionRecord } from '../../adapters/db/port';
import { loadEndpointKey } from '../../adapters/endpoint/secret';
import { startEndpoint, type Deployment, type Endpoint } from '../../adapters/endpoint/server';
import { loadScorer } from '../../adapters/scoring/onnx-scorer';
import type { LoadScorer } from '../../adapters/scoring/port';
import { tinyModel, type TinyModel } from './helpers/tiny-model';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = async (r: Response): Promise<any> => r.json();

describe('local endpoint with a model trained by slurm/train.py', () => {
  let model: TinyModel;
  let work: string;
  let endpoint: Endpoint;
  let key: string;
  let deployment: Deployment | null = null;
  const logged: PredictionRecord[] = [];
  const feedback: FeedbackRecord[] = [];
  const loads: string[] = [];
  const closes: string[] = [];

  const post = (path: string, body: unknown, withKey = true) =>
    fetch(`${endpoint.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(withKey ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    model = await tinyModel();
    work = await mkdtemp(join(tmpdir(), 'mlc-endpoint-'));
    key = await loadEndpointKey(join(work, 'secrets'), {});
    const sha256 = createHash('sha256')
      .update(await readFile(join(model.dir, 'model.onnx')))
      .digest('hex');
    deployment = { model: 'thai-sentiment', version: 1, modelDir: model.dir, sha256 };
    // The real scorer, watched: which folders were loaded and closed.
    const watched: LoadScorer = async (dir, options) => {
      loads.push(dir);
      const scorer = await loadScorer(dir, options);
      return {
        labels: scorer.labels,
        embeddings: scorer.embeddings,
        predict: (t, o) => scorer.predict(t, o),
        close: async () => (closes.push(dir), scorer.close()),
      };
    };
    endpoint = await startEndpoint({
      host: '127.0.0.1',
      port: 0,
      apiKey: key,
      loadScorer: watched,
      resolveDeployment: async (name) => (deployment && (!name || name === deployment.model) ? deployment : null),
      logPredictions: async (records) => void logged.push(...records),
      addFeedback: async (records) => (feedback.push(...records), records.length),
    });
  });

  afterAll(async () => {
    await endpoint?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('is healthy before any model is loaded', async () => {
    const res = await fetch(`${endpoint.url}/health`);
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ status: 'ok', models: [] });
  });

  it('refuses to score without the key', async () => {
    const res = await post('/score', { texts: ['ดีมาก'] }, false);
    expect(res.status).toBe(401);
    expect(loads).toEqual([]);
  });

  it('names the bad field in a 400', async () => {
    const res = await post('/score', { texts: ['ok', 42] });
    expect(res.status).toBe(400);
    const body = await json(res);
    expect(body.issues[0].path).toBe('texts.1');
    expect(body.error).toMatch(/^invalid request body: texts\.1: /);
  });

  it('scores with the real model, the same as the scorer alone, and logs every prediction', async () => {
    const texts = ['อาหารอร่อยมากครับ 😊', 'แย่มาก ไม่ชอบเลย 👎', 'the shop opens at 9 ที่กรุงเทพ'];
    const res = await post('/score', { model: 'thai-sentiment', texts });
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body).toMatchObject({ model: 'thai-sentiment', version: 1 });
    expect(body.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.predictions).toHaveLength(3);
    for (const p of body.predictions as { label: string; probabilities: Record<string, number> }[]) {
      expect(model.labels).toContain(p.label);
      expect(Object.values(p.probabilities).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    }
    const direct = await loadScorer(model.dir);
    try {
      expect(body.predictions).toEqual(await direct.predict(texts));
    } finally {
      await direct.close();
    }
    // Logged beside the answer: what monitoring measures of production (token stats, the projected embedding).
    const direct2 = await loadScorer(model.dir);
    const observed = await direct2.predict(texts, { tokenStats: true, embeddings: true }).finally(() => direct2.close());
    expect(logged).toEqual(
      texts.map((text, i) => ({
        model: 'thai-sentiment',
        version: 1,
        requestId: body.requestId,
        text,
        label: body.predictions[i].label,
        probabilities: body.predictions[i].probabilities,
        embedding: observed[i]!.embedding,
        tokens: observed[i]!.tokenStats!.count,
        truncated: observed[i]!.tokenStats!.truncated,
        fallbackTokens: observed[i]!.tokenStats!.fallback,
      })),
    );
    expect(logged[0]!.embedding).toHaveLength(32);
    expect((await json(await fetch(`${endpoint.url}/health`))).models).toEqual([{ model: 'thai-sentiment', version: 1, sha256: deployment!.sha256 }]);
    expect(loads).toEqual([model.dir]);
  });

  it('takes feedback with labels the model knows', async () => {
    const res = await post('/feedback', {
      model: 'thai-sentiment',
      items: [
        { text: 'อร่อย', label: 'pos' },
        { text: 'ห่วย', label: 'neg' },
      ],
      source: 'analyst-team',
    });
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ accepted: 2 });
    expect(feedback).toEqual([
      { model: 'thai-sentiment', text: 'อร่อย', label: 'pos', source: 'analyst-team' },
      { model: 'thai-sentiment', text: 'ห่วย', label: 'neg', source: 'analyst-team' },
    ]);
  });

  it('swaps to a newly deployed version and closes the old scorer', async () => {
    const v2dir = join(work, 'v2');
    await cp(model.dir, v2dir, { recursive: true });
    deployment = { ...deployment!, version: 2, modelDir: v2dir };
    const res = await post('/score', { texts: ['ชอบมาก'] });
    expect(res.status).toBe(200);
    expect((await json(res)).version).toBe(2);
    expect(loads).toEqual([model.dir, v2dir]);
    // The old scorer closes once its last request is done, a moment after the swap.
    for (let i = 0; i < 100 && !closes.length; i++) await new Promise((r) => setTimeout(r, 50));
    expect(closes).toEqual([model.dir]);
    expect(logged.at(-1)).toMatchObject({ version: 2, text: 'ชอบมาก' });
    expect((await json(await fetch(`${endpoint.url}/health`))).models).toEqual([{ model: 'thai-sentiment', version: 2, sha256: deployment.sha256 }]);
  });

  it('answers 404 when nothing is deployed for the model', async () => {
    const res = await post('/score', { model: 'other-model', texts: ['x'] });
    expect(res.status).toBe(404);
  });
});
