// Several copies of one model side by side, as Triton's instance groups run them. On a model
// this size onnxruntime's own threads scale poorly: one session on 2 cores kept 1.2 of them
// busy at batch 32, while one single-threaded session per core, each in a worker thread of its
// own, kept both busy and scored twice as many texts (bench/README.md). Each predict goes to an
// idle copy, or waits for one; `concurrency` tells the micro-batcher how many batches to keep in
// flight.
import type { LoadScorer, Scorer } from '../scoring/port';

export function scorerInstances(load: LoadScorer, count: number): LoadScorer {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`scorer instances must be a positive integer, got ${count}`);
  return async (modelDir, options = {}) => {
    // One core each unless told otherwise: several sessions sharing every core fight over them.
    const loaded = await Promise.allSettled(Array.from({ length: count }, () => load(modelDir, { intraOpThreads: 1, ...options })));
    const scorers = loaded.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = loaded.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await Promise.allSettled(scorers.map((s) => s.close()));
      throw failed.reason;
    }
    const idle = [...scorers];
    const waiting: ((s: Scorer) => void)[] = [];
    const using = async <T>(work: (s: Scorer) => Promise<T>): Promise<T> => {
      const scorer = idle.pop() ?? (await new Promise<Scorer>((resolve) => waiting.push(resolve)));
      try {
        return await work(scorer);
      } finally {
        const next = waiting.shift();
        if (next) next(scorer);
        else idle.push(scorer);
      }
    };
    const first = scorers[0]!;
    return {
      labels: first.labels,
      ...(first.runtime !== undefined && { runtime: `${first.runtime}, ${count} instances` }),
      ...(first.precision !== undefined && { precision: first.precision }),
      ...(first.embeddings !== undefined && { embeddings: first.embeddings }),
      concurrency: count,
      predict: (texts, predictOptions) => using((s) => s.predict(texts, predictOptions)),
      ...(first.explain && { explain: (text: string, label: string) => using((s) => s.explain!(text, label)) }),
      async close() {
        await Promise.all(scorers.map((s) => s.close()));
      },
    } satisfies Scorer;
  };
}
