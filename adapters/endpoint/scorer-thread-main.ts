// The inside of a scoring thread (scorer-thread.ts): loads one model folder with the LoadScorer
// the setup names, says so, then answers predict requests in the order they come, until told
// to close. Errors travel as name and message: the endpoint only words them for its client.
import { parentPort, workerData } from 'node:worker_threads';
import type { LoadScorer, Prediction, PredictOptions, Scorer } from '../scoring/port';
import { packPredictions, transferables, type PackedPredictions } from './prediction-codec';

export interface ThreadSetup {
  /** URL of the module exporting the LoadScorer, and the export's name. */
  module: string;
  exportName: string;
  modelDir: string;
  options: Parameters<LoadScorer>[1];
}

export type ThreadRequest = { type: 'predict'; id: number; texts: string[]; options?: PredictOptions } | { type: 'close' };

/** What the caller's side of the thread needs to know of the scorer, besides predict. */
export type ScorerFacts = Pick<Scorer, 'labels' | 'runtime' | 'precision' | 'embeddings'>;

export type ThreadAnswer =
  | ({ type: 'ready' } & ScorerFacts)
  | { type: 'failed'; name: string; message: string }
  | { type: 'predictions'; id: number; predictions: Prediction[] }
  | { type: 'packed'; id: number; packed: PackedPredictions }
  | { type: 'error'; id: number; name: string; message: string };

const describe = (e: unknown) => ({ name: (e as Error)?.name ?? 'Error', message: (e as Error)?.message ?? String(e) });

async function serve(): Promise<void> {
  const port = parentPort!;
  const setup = workerData as ThreadSetup;
  const answer = (m: ThreadAnswer) => port.postMessage(m);
  let scorer;
  try {
    const exports = (await import(setup.module)) as Record<string, LoadScorer | undefined>;
    const load = exports[setup.exportName];
    if (typeof load !== 'function') throw new Error(`${setup.module} exports no function ${setup.exportName}`);
    scorer = await load(setup.modelDir, setup.options);
  } catch (e) {
    answer({ type: 'failed', ...describe(e) });
    port.close();
    return;
  }
  const { labels, runtime, precision, embeddings } = scorer;
  answer({
    type: 'ready',
    labels,
    ...(runtime !== undefined && { runtime }),
    ...(precision !== undefined && { precision }),
    ...(embeddings !== undefined && { embeddings }),
  });

  // One predict at a time: a session scores one batch with all its intra-op threads.
  let queue = Promise.resolve();
  port.on('message', (m: ThreadRequest) => {
    queue = queue.then(async () => {
      if (m.type === 'close') {
        await scorer.close().catch(() => undefined);
        port.close();
        return;
      }
      try {
        const predictions = await scorer.predict(m.texts, m.options);
        const packed = packPredictions(labels, predictions);
        if (packed) port.postMessage({ type: 'packed', id: m.id, packed } satisfies ThreadAnswer, transferables(packed));
        else answer({ type: 'predictions', id: m.id, predictions });
      } catch (e) {
        answer({ type: 'error', id: m.id, ...describe(e) });
      }
    });
  });
}

await serve();
