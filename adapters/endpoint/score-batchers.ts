// One micro-batcher per loaded scorer, so a new version gets its own queue while the old one
// drains with the requests that hold leases on it. Each batch is scored with one predict and
// logged with one logPredictions call (or shares one with the batches scored while the last call
// ran); an answer whose predictions were not logged is not given, unless logging is
// 'after-answer' (micro-batcher.ts). A model that can give its embedding is asked for it, and it
// is logged with the prediction: embedding drift samples it.
import type { PredictionRecord } from '../db/port';
import type { Scorer } from '../scoring/port';
import { HttpError } from './http-error';
import { MicroBatcher, type MicroBatcherOptions, type MicroBatcherStats, type MicroBatchLimits } from './micro-batcher';
import type { Lease } from './scorer-pool';

export interface ScoreJob {
  requestId: string;
  /** As sent: the log keeps what the client sent; the model sees them normalized. */
  texts: string[];
}

export type VersionBatchStats = { model: string; version: number } & MicroBatcherStats;

export class ScoreBatchers {
  private readonly batchers = new WeakMap<Scorer, MicroBatcher<ScoreJob>>();
  /** Per model version; outlives the scorers, for the bench and tests. */
  private readonly counters = new Map<string, VersionBatchStats>();
  /**
   * Every batcher made, weakly: one of a retired version goes with its scorer, unless a log
   * retry still holds it (its timer does), and then whenLogged waits for it.
   */
  private readonly made = new Set<WeakRef<MicroBatcher<ScoreJob>>>();

  constructor(
    private readonly logPredictions: (records: PredictionRecord[]) => Promise<void>,
    private readonly limits: MicroBatchLimits,
    private readonly options: Pick<MicroBatcherOptions, 'logging' | 'onLogError'> = {},
  ) {}

  /** Resolves once every answer given so far is logged, or after timeoutMs; to the texts still unlogged. */
  async whenLogged(timeoutMs: number): Promise<number> {
    const live = this.live();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(live.map((b) => b.whenIdle())), new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    return live.reduce((n, b) => n + b.unloggedTexts, 0);
  }

  private live(): MicroBatcher<ScoreJob>[] {
    const live: MicroBatcher<ScoreJob>[] = [];
    for (const ref of this.made) {
      const b = ref.deref();
      if (b) live.push(b);
      else this.made.delete(ref);
    }
    return live;
  }

  for({ scorer, deployment: served }: Lease): MicroBatcher<ScoreJob> {
    let batcher = this.batchers.get(scorer);
    if (batcher) return batcher;
    const key = `${served.model}@${served.version}`;
    const counters = this.counters.get(key) ?? { model: served.model, version: served.version, predictCalls: 0, commitCalls: 0, requests: 0, texts: 0 };
    this.counters.set(key, counters);
    const log = this.logPredictions;
    const answeredFirst = this.options.logging === 'after-answer';
    batcher = new MicroBatcher<ScoreJob>(
      {
        async predict(texts) {
          try {
            // What monitoring measures of production beyond the answer: token stats, and the embedding where the model has one.
            return await scorer.predict(texts, { tokenStats: true, ...(scorer.embeddings && { embeddings: true }) });
          } catch (e) {
            throw new HttpError(500, `scoring failed with model ${served.model} v${served.version}: ${(e as Error).message}`);
          }
        },
        async commit(results) {
          const records = results.flatMap(({ job, predictions }) =>
            predictions.map((p, i): PredictionRecord => ({
              model: served.model,
              version: served.version,
              requestId: job.requestId,
              text: job.texts[i]!,
              label: p.label,
              probabilities: p.probabilities,
              ...(p.embedding && { embedding: p.embedding }),
              ...(p.tokenStats && { tokens: p.tokenStats.count, truncated: p.tokenStats.truncated, fallbackTokens: p.tokenStats.fallback }),
            })),
          );
          try {
            await log(records);
          } catch (e) {
            // Answered already: the batcher retries the call and reports the failure as it is.
            if (answeredFirst) throw e;
            // Monitoring is built on these rows; an answer we could not record is not given.
            throw new HttpError(503, `predictions could not be logged, so none are returned: ${(e as Error).message}`, {}, { 'retry-after': '5' });
          }
        },
      },
      this.limits,
      counters,
      { ...this.options, concurrency: scorer.concurrency ?? 1 },
    );
    this.batchers.set(scorer, batcher);
    this.live(); // drops the references of batchers already gone
    this.made.add(new WeakRef(batcher));
    return batcher;
  }

  stats(): VersionBatchStats[] {
    return [...this.counters.values()].map((s) => ({ ...s }));
  }
}
