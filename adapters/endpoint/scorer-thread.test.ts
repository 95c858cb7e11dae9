import { threadId } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { ScorerThreadError, scorerInThread } from './scorer-thread';

const load = scorerInThread(new URL('./scorer-thread.fixture.ts', import.meta.url), 'loadFakeScorer');

describe('scorerInThread', () => {
  it('scores in a worker thread, not on the caller’s, and answers concurrent calls each with its own predictions', async () => {
    const scorer = await load('/models/v1');
    try {
      expect(scorer.labels).toEqual(['short', 'long']);
      expect(scorer.runtime).toMatch(/^fake on thread (\d+), in a worker thread$/);
      expect(scorer.runtime).not.toContain(`thread ${threadId},`);
      const [a, b] = await Promise.all([scorer.predict(['hi', 'a long text']), scorer.predict(['longer one'])]);
      expect(a.map((p) => p.label)).toEqual(['short', 'long']);
      expect(b).toEqual([{ label: 'long', probabilities: { short: 0.2, long: 0.8 } }]);
      // What the scorer can do, and what a call asks of it, cross the thread too.
      expect(scorer.embeddings).toBe(true);
      const [withEmbedding] = await scorer.predict(['hi'], { embeddings: true });
      expect(withEmbedding!.embedding).toEqual([expect.any(Number), 0.5]);
      expect(withEmbedding!.embedding![0]).not.toBe(threadId);
    } finally {
      await scorer.close();
    }
  });

  it('fails a load with the loader’s own error, and ends the thread', async () => {
    await expect(load('/models/missing')).rejects.toMatchObject({ name: 'ModelFileMissingError', message: 'model.onnx not found in /models/missing' });
  });

  it('fails only the predict that failed, with its error, and keeps scoring', async () => {
    const scorer = await load('/models/v1');
    try {
      await expect(scorer.predict(['poison'])).rejects.toMatchObject({ name: 'InferenceError', message: 'onnxruntime failed on a batch' });
      expect(await scorer.predict(['ok'])).toHaveLength(1);
    } finally {
      await scorer.close();
    }
  });

  it('fails what is waiting, and every later call, once the thread is gone', async () => {
    const scorer = await load('/models/v1');
    await expect(scorer.predict(['crash'])).rejects.toThrow(ScorerThreadError);
    await expect(scorer.predict(['later'])).rejects.toThrow('the scoring thread of /models/v1 exited (code 3)');
    await scorer.close();
  });

  it('refuses to predict after close', async () => {
    const scorer = await load('/models/v1');
    await scorer.close();
    await expect(scorer.predict(['x'])).rejects.toThrow(/is closed/);
  });
});
