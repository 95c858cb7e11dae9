// Scoring off the event loop. onnxruntime-node runs a session synchronously on the calling
// thread (its async run() only defers to setImmediate), so an endpoint scoring on its event loop
// reads no request, writes no answer and logs nothing while a batch runs. A scorer loaded here
// lives in a worker thread of its own (scorer-thread-main.ts); the event loop only posts texts
// and gets predictions back, and keeps serving HTTP and logging while the thread scores.
import type { LoadScorer, Prediction, Scorer } from '../scoring/port';
import { moduleBeside, startThread } from '../threads/start-thread';
import { unpackPredictions } from './prediction-codec';
import type { ScorerFacts, ThreadAnswer, ThreadRequest, ThreadSetup } from './scorer-thread-main';

/** The scoring thread stopped (crashed, or was closed) before it answered. */
export class ScorerThreadError extends Error {
  override name = 'ScorerThreadError';
}

const THREAD_MAIN = moduleBeside(import.meta.url, './scorer-thread-main');

/**
 * A LoadScorer that runs `exportName` of `module` (a LoadScorer) in a worker thread. The scorer
 * it returns predicts there, one call after another; close() ends the thread.
 */
export function scorerInThread(module: URL, exportName = 'loadScorer'): LoadScorer {
  return async (modelDir, options = {}) => {
    const worker = startThread(THREAD_MAIN, { module: module.href, exportName, modelDir, options } satisfies ThreadSetup);
    const waiting = new Map<number, { resolve(p: Prediction[]): void; reject(e: Error): void }>();
    let stopped: Error | null = null;
    let nextId = 0;

    let labels: string[] = [];
    const ready = new Promise<ScorerFacts>((resolve, reject) => {
      const stop = (error: Error) => {
        stopped ??= error;
        reject(stopped);
        for (const w of waiting.values()) w.reject(stopped);
        waiting.clear();
      };
      worker.on('message', (m: ThreadAnswer) => {
        if (m.type === 'ready') {
          labels = m.labels;
          return resolve(m);
        }
        if (m.type === 'failed') return stop(Object.assign(new Error(m.message), { name: m.name }));
        const w = waiting.get(m.id);
        waiting.delete(m.id);
        if (m.type === 'packed') w?.resolve(unpackPredictions(labels, m.packed));
        else if (m.type === 'predictions') w?.resolve(m.predictions);
        else w?.reject(Object.assign(new Error(m.message), { name: m.name }));
      });
      worker.on('error', (e) => stop(new ScorerThreadError(`the scoring thread of ${modelDir} crashed: ${e.message}`, { cause: e })));
      worker.on('exit', (code) => stop(new ScorerThreadError(`the scoring thread of ${modelDir} exited (code ${code})`)));
    });
    let facts: ScorerFacts;
    try {
      facts = await ready;
    } catch (error) {
      await worker.terminate();
      throw error;
    }

    const { type: _type, runtime, ...rest } = facts as ScorerFacts & { type?: string };
    return {
      ...rest,
      ...(runtime !== undefined && { runtime: `${runtime}, in a worker thread` }),
      predict(texts, options) {
        if (stopped) return Promise.reject(stopped);
        const id = nextId++;
        return new Promise<Prediction[]>((resolve, reject) => {
          waiting.set(id, { resolve, reject });
          worker.postMessage({ type: 'predict', id, texts, ...(options && { options }) } satisfies ThreadRequest);
        });
      },
      async close() {
        if (stopped) return;
        stopped = new ScorerThreadError(`the scorer of ${modelDir} is closed`);
        // The thread closes its session (releasing onnxruntime's memory) and then exits.
        const exited = new Promise((resolve) => worker.once('exit', resolve));
        worker.postMessage({ type: 'close' } satisfies ThreadRequest);
        await exited;
      },
    } satisfies Scorer;
  };
}

/** The ONNX scorer (adapters/scoring/onnx-scorer.ts), in a worker thread: what the endpoint serves with. */
export const loadScorerInThread: LoadScorer = scorerInThread(moduleBeside(import.meta.url, '../scoring/onnx-scorer'));
