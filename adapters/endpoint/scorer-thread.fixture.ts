// A LoadScorer for scorer-thread.test.ts to run in a worker thread: labels each text by its
// length, and fails where the test asks it to (a folder named "missing", a text "poison").
import { threadId } from 'node:worker_threads';
import type { LoadScorer } from '../scoring/port';

export const loadFakeScorer: LoadScorer = async (modelDir) => {
  if (modelDir.endsWith('missing')) throw Object.assign(new Error(`model.onnx not found in ${modelDir}`), { name: 'ModelFileMissingError' });
  return {
    labels: ['short', 'long'],
    runtime: `fake on thread ${threadId}`,
    embeddings: true,
    async predict(texts, options) {
      if (texts.includes('poison')) throw Object.assign(new Error('onnxruntime failed on a batch'), { name: 'InferenceError' });
      if (texts.includes('crash')) process.exit(3); // in a worker thread: ends the thread
      const embedding = options?.embeddings ? { embedding: [threadId, 0.5] } : {};
      return texts.map((t) => ({
        ...(t.length < 5 ? { label: 'short', probabilities: { short: 0.9, long: 0.1 } } : { label: 'long', probabilities: { short: 0.2, long: 0.8 } }),
        ...embedding,
      }));
    },
    async close() {},
  };
};
