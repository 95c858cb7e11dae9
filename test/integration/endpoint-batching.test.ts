// Micro-batching with the real ONNX scorer: concurrent single-text requests are scored together,
// padded to the batch's longest text, and each must still get what the scorer says about its
// text alone, and be logged under its own request id.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PredictionRecord } from '../../adapters/db/port';
import { startEndpoint, type Endpoint } from '../../adapters/endpoint/server';
import { scorerInstances } from '../../adapters/endpoint/scorer-instances';
import { loadScorerInThread } from '../../adapters/endpoint/scorer-thread';
import { loadScorer } from '../../adapters/scoring/onnx-scorer';
import type { LoadScorer } from '../../adapters/scoring/port';
import { normalizeText } from '../../domain/dataset';
import { TOKENIZER_PROBES, tinyDataset, tinyModel, type TinyModel } from './helpers/tiny-model';

const KEY = 'k'.repeat(64);

describe('micro-batching on the real scorer', () => {
  let model: TinyModel;
  let endpoint: Endpoint;
  const predictCalls: number[] = [];
  const logged: PredictionRecord[] = [];

  beforeAll(async () => {
    model = await tinyModel();
    const watched: LoadScorer = async (dir, options) => {
      const scorer = await loadScorer(dir, options);
      return { labels: scorer.labels, predict: (t) => (predictCalls.push(t.length), scorer.predict(t)), close: () => scorer.close() };
    };
    endpoint = await startEndpoint({
      host: '127.0.0.1',
      port: 0,
      apiKey: KEY,
      loadScorer: watched,
      resolveDeployment: async () => ({ model: 'thai-sentiment', version: 1, modelDir: model.dir, sha256: 'x' }),
      logPredictions: async (records) => void logged.push(...records),
      addFeedback: async () => 0,
      limits: { batching: { maxWaitMs: 20 } },
    });
  });

  afterAll(async () => {
    await endpoint?.close();
  });

  it('answers each of many concurrent requests with what the scorer says about its text alone', async () => {
    // Short and long texts together, so short ones are padded far past their length.
    const texts = [...TOKENIZER_PROBES.filter((t) => t.trim()), ...tinyDataset(12, 5).map((r) => r.text)];
    const answers = await Promise.all(
      texts.map(async (text) => {
        const res = await fetch(`${endpoint.url}/score`, {
          method: 'POST',
          headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
          body: JSON.stringify({ texts: [text] }),
        });
        expect(res.status).toBe(200);
        return (await res.json()) as { requestId: string; predictions: { label: string; probabilities: Record<string, number> }[] };
      }),
    );
    expect(predictCalls.length).toBeLessThan(texts.length);
    expect(Math.max(...predictCalls)).toBeGreaterThan(1);

    const alone = await loadScorer(model.dir);
    try {
      for (const [i, text] of texts.entries()) {
        const [expected] = await alone.predict([normalizeText(text)]);
        const [got] = answers[i]!.predictions;
        expect(got!.label, text).toBe(expected!.label);
        for (const label of model.labels) expect(got!.probabilities[label], `${text}: ${label}`).toBeCloseTo(expected!.probabilities[label]!, 6);
        expect(logged.filter((r) => r.requestId === answers[i]!.requestId)).toEqual([expect.objectContaining({ text, label: got!.label })]);
      }
    } finally {
      await alone.close();
    }
  });

  it('scores in a worker thread exactly as on the event loop, embeddings included', async () => {
    const texts = [...TOKENIZER_PROBES, ...tinyDataset(40, 9).map((r) => r.text)].map(normalizeText);
    const [here, there] = await Promise.all([loadScorer(model.dir), loadScorerInThread(model.dir)]);
    try {
      expect(there.labels).toEqual(here.labels);
      expect(there.embeddings).toBe(here.embeddings);
      const options = here.embeddings ? { embeddings: true } : undefined;
      expect(await there.predict(texts, options)).toEqual(await here.predict(texts, options));
    } finally {
      await Promise.all([here.close(), there.close()]);
    }
  });

  it('scores with copies in threads, one core each, side by side, as one copy does', async () => {
    const texts = [...TOKENIZER_PROBES, ...tinyDataset(60, 13).map((r) => r.text)].map(normalizeText);
    const [one, copies] = await Promise.all([loadScorer(model.dir), scorerInstances(loadScorerInThread, 2)(model.dir)]);
    try {
      expect(copies.concurrency).toBe(2);
      expect(copies.runtime).toMatch(/in a worker thread, 2 instances$/);
      const expected = await one.predict(texts, { tokenStats: true });
      // Four calls at once over two copies: each answer is still its own texts'.
      const parts = [0, 1, 2, 3].map((k) => texts.filter((_, i) => i % 4 === k));
      const answers = await Promise.all(parts.map((part) => copies.predict(part, { tokenStats: true })));
      parts.forEach((part, k) =>
        part.forEach((text, j) => {
          const want = expected[texts.indexOf(text)]!;
          const got = answers[k]![j]!;
          expect(got.label, text).toBe(want.label);
          expect(got.tokenStats).toEqual(want.tokenStats);
          for (const label of model.labels) expect(got.probabilities[label], `${text}: ${label}`).toBeCloseTo(want.probabilities[label]!, 5);
        }),
      );
    } finally {
      await Promise.all([one.close(), copies.close()]);
    }
  });
});
