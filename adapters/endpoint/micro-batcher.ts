// Dynamic micro-batching of concurrent /score requests for one deployed version, as Triton's
// dynamic batcher (max_queue_delay) and TorchServe (batch_size, max_batch_delay) do: the scorer
// is 1.5-1.9x faster per text at batch 32 than one text at a time (bench/endpoint.ts), and HTTP
// clients mostly send one text each. A batch leaves when `maxBatchTexts` texts wait or the oldest
// has waited `maxWaitMs`; it is scored with one predict, and (by default) none of its requests is
// answered before its predictions are logged. Scoring and logging are two stages: as many predict
// calls in flight as the scorer runs at once (`concurrency`: copies of the model side by side,
// else one), and one log call. Batch N+1 is scored while batch N's log call waits on the database, and batches
// scored while a log call is in flight are logged together by the next one (a group commit): a
// slow log costs fewer, larger writes (cheaper per row) instead of holding the scorer.
//
// With `logging: 'after-answer'` a request is answered as soon as it is scored and its
// predictions are logged behind it, as SageMaker's data capture does: the answer no longer waits
// for a commit (about 1 ms on PostgreSQL with its fsync, bench/README.md), at the price that
// predictions answered in the last moments before a crash may never be logged. As nobody waits
// for it, the log call also waits to be worth making: up to `logDelayMs` (100 ms) or 500 rows,
// so it writes hundreds of rows at once instead of one or two a millisecond, each call costing
// the database and the driver CPU on the cores that score. A failed log call is retried with
// backoff, and unlogged texts count as pending, so a log that stays down sheds new requests
// (QueueFullError) instead of holding unbounded memory.
import { PREDICTION_LOGGING, type PredictionLogging } from '../../config/schema';
import type { Prediction } from '../scoring/port';

export type { PredictionLogging } from '../../config/schema';

export interface MicroBatchLimits {
  /** A batch leaves as soon as this many texts wait (the scorer's own batch size is a good value). */
  maxBatchTexts: number;
  /**
   * ...or once its oldest request has waited this long, while requests come together (the last
   * batch held several). 0: take what has arrived by the end of this event-loop turn.
   */
  maxWaitMs: number;
  /** Texts accepted and not yet answered (waiting, scoring, logging); beyond it, QueueFullError. */
  maxPendingTexts: number;
}

export interface MicroBatcherOptions {
  /** Batches the scorer may score at once (Scorer.concurrency). */
  concurrency?: number;
  /**
   * `before-answer` (the default): a request is answered once its predictions are logged, so every
   * answer is on record. `after-answer`: answered once scored, logged right behind.
   */
  logging?: PredictionLogging;
  /** After-answer only: a log call failed and will be retried after `retryInMs` (its answers are out already). */
  onLogError?: (error: unknown, context: { texts: number; retryInMs: number }) => void;
  /** After-answer only: how long to wait before retry n (1, 2, …) of a failed log call. */
  retryDelayMs?: (attempt: number) => number;
  /** After-answer only: how long the oldest unlogged prediction may wait for company before the log call (default 100 ms). */
  logDelayMs?: number;
}

const DEFAULT_LOG_DELAY_MS = 100;
/** After-answer: a log call leaves at once with this many rows; half the registry's rows per statement. */
const LOG_CALL_ROWS = 500;

export interface BatchSteps<J> {
  /** Scores one batch's texts; returns one prediction per text, in order. */
  predict(texts: string[]): Promise<Prediction[]>;
  /** Records the batch's predictions (one call per batch); its requests are answered only once it resolves. */
  commit(results: { job: J; predictions: Prediction[] }[]): Promise<void>;
}

/** Too much work is waiting already: the caller should shed this request (503 + Retry-After). */
export class QueueFullError extends Error {
  override name = 'QueueFullError';
  constructor(
    readonly pendingTexts: number,
    readonly limit: number,
  ) {
    super(`${pendingTexts} texts are already waiting for this model, and the limit is ${limit}`);
  }
}

interface Waiting<J> {
  job: J;
  texts: string[];
  arrivedAt: number;
  resolve(predictions: Prediction[]): void;
  reject(error: unknown): void;
  detach(): void;
}

interface Scored<J> {
  waiting: Waiting<J>;
  predictions: Prediction[];
}

export interface MicroBatcherStats {
  /** predict calls made (a failed batch retried request by request counts each retry). */
  predictCalls: number;
  /** commit calls made: at most one per batch, fewer when batches are logged together. */
  commitCalls: number;
  /** Requests answered with predictions (scored, and logged unless after-answer), and their texts. */
  requests: number;
  texts: number;
}

export class MicroBatcher<J> {
  private queue: Waiting<J>[] = [];
  private queuedTexts = 0;
  private pendingTexts = 0;
  /** Predict calls in flight (at most `concurrency`). */
  private scoring = 0;
  /** A commit is in flight. */
  private committing = false;
  /** After-answer: the texts of the log call in flight, consecutive failed calls, and the timer of the next try. */
  private inFlightLogTexts = 0;
  private logFailures = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  /** After-answer: when the oldest prediction waiting for the log was scored, and the timer that sends it. */
  private oldestUnloggedAt = 0;
  private logTimer: NodeJS.Timeout | null = null;
  private readonly idleWaiters: (() => void)[] = [];
  private readonly concurrency: number;
  private readonly logging: PredictionLogging;
  /** Scored and waiting for the log call in flight to end; the next one takes them all. */
  private scored: Scored<J>[] = [];
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private lastBatchRequests = 0;

  constructor(
    private readonly steps: BatchSteps<J>,
    private readonly limits: MicroBatchLimits,
    /** Counted into; pass one object to several batchers to add them up. */
    readonly stats: MicroBatcherStats = { predictCalls: 0, commitCalls: 0, requests: 0, texts: 0 },
    private readonly options: MicroBatcherOptions = {},
  ) {
    this.concurrency = options.concurrency ?? 1;
    this.logging = options.logging ?? 'before-answer';
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) throw new RangeError(`concurrency must be a positive integer, got ${this.concurrency}`);
    if (!PREDICTION_LOGGING.includes(this.logging))
      throw new RangeError(`logging must be one of ${PREDICTION_LOGGING.join(', ')}, got ${String(this.logging)}`);
  }

  /** Texts answered and not yet logged (after-answer only; before-answer answers nothing unlogged). */
  get unloggedTexts(): number {
    return this.logging === 'after-answer' ? this.scored.reduce((n, s) => n + s.predictions.length, 0) + this.inFlightLogTexts : 0;
  }

  /** Resolves once nothing is being scored or waits to be logged: every answer given so far is on record. */
  whenIdle(): Promise<void> {
    if (this.idle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private idle(): boolean {
    return this.scoring === 0 && !this.committing && this.scored.length === 0 && this.queue.length === 0;
  }

  private notifyIfIdle(): void {
    if (!this.idle()) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  /**
   * Queues one request's texts; resolves to its own predictions once they are logged (after-answer:
   * once scored). An abort
   * (the request timed out, the client left) while it still waits drops it unscored; once its
   * batch has left, it runs to the end and is logged.
   */
  submit(job: J, texts: string[], signal?: AbortSignal): Promise<Prediction[]> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    // One request alone always fits, so a limit below a request's size cannot starve it.
    if (this.pendingTexts > 0 && this.pendingTexts + texts.length > this.limits.maxPendingTexts)
      return Promise.reject(new QueueFullError(this.pendingTexts, this.limits.maxPendingTexts));
    return new Promise<Prediction[]>((resolve, reject) => {
      const onAbort = () => {
        const at = this.queue.indexOf(waiting);
        if (at < 0) return;
        this.queue.splice(at, 1);
        this.queuedTexts -= texts.length;
        this.pendingTexts -= texts.length;
        reject(signal!.reason);
        this.notifyIfIdle();
      };
      const waiting: Waiting<J> = {
        job,
        texts,
        arrivedAt: performance.now(),
        resolve,
        reject,
        detach: () => signal?.removeEventListener('abort', onAbort),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(waiting);
      this.queuedTexts += texts.length;
      this.pendingTexts += texts.length;
      this.schedule();
    });
  }

  /**
   * Starts a full batch as soon as the scorer is free. A batch that is not full leaves at the
   * end of this event-loop turn (setImmediate), once the oldest request has waited maxWaitMs:
   * requests that reached the socket together, or while the last batch was scored, are then
   * all queued, and leave together. A lone client does not pay the wait: it applies only while
   * requests do come together, that is while the last batch held more than one.
   */
  private schedule(): void {
    if (this.scoring >= this.concurrency || this.queue.length === 0) return;
    const waited = performance.now() - this.queue[0]!.arrivedAt;
    const wait = this.lastBatchRequests > 1 ? this.limits.maxWaitMs : 0;
    if (this.queuedTexts >= this.limits.maxBatchTexts) {
      this.clearTimers();
      void this.runBatch(this.takeBatch());
    } else if (waited >= wait) {
      this.immediate ??= setImmediate(() => {
        this.immediate = null;
        if (this.scoring >= this.concurrency || this.queue.length === 0) return;
        this.clearTimers();
        void this.runBatch(this.takeBatch());
      });
    } else {
      this.timer ??= setTimeout(() => {
        this.timer = null;
        this.schedule();
      }, wait - waited);
    }
  }

  private clearTimers(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
  }

  /** The oldest requests whose texts fit in one batch; always at least one, however large. */
  private takeBatch(): Waiting<J>[] {
    let texts = 0;
    let n = 0;
    while (n < this.queue.length && (n === 0 || texts + this.queue[n]!.texts.length <= this.limits.maxBatchTexts)) texts += this.queue[n++]!.texts.length;
    const batch = this.queue.splice(0, n);
    this.queuedTexts -= texts;
    this.lastBatchRequests = batch.length;
    batch.forEach((w) => w.detach());
    return batch;
  }

  /** Scores one batch and hands it to the log; the next batch may leave as soon as it is scored. */
  private async runBatch(batch: Waiting<J>[]): Promise<void> {
    this.scoring++;
    try {
      // Not this.scored.push(...(await ...)): that would read this.scored before the await and
      // push into a list a log call may have taken meanwhile (answered, never logged).
      const scored = await this.score(batch);
      if (this.logging === 'after-answer') this.answer(scored);
      if (this.scored.length === 0) this.oldestUnloggedAt = performance.now();
      this.scored.push(...scored);
    } finally {
      this.scoring--;
      void this.commitScored();
      this.schedule();
      this.notifyIfIdle();
    }
  }

  private answer(scored: Scored<J>[]): void {
    for (const { waiting, predictions } of scored) waiting.resolve(predictions);
    this.stats.requests += scored.length;
    this.stats.texts += scored.reduce((n, s) => n + s.predictions.length, 0);
  }

  /**
   * Logs everything scored since the last log call began, in one call, then answers it. An
   * answer that was not logged is not given: a failed call fails the requests it held, and
   * only them (those that failed scoring were answered already). After-answer, the requests
   * were answered already: a failed call is tried again, with what was scored meanwhile.
   */
  private async commitScored(): Promise<void> {
    if (this.committing || this.retryTimer || this.scored.length === 0) return;
    const afterAnswer = this.logging === 'after-answer';
    if (afterAnswer) {
      const waited = performance.now() - this.oldestUnloggedAt;
      const delay = this.options.logDelayMs ?? DEFAULT_LOG_DELAY_MS;
      if (waited < delay && this.unloggedTexts < LOG_CALL_ROWS) {
        this.logTimer ??= setTimeout(() => {
          this.logTimer = null;
          void this.commitScored();
        }, delay - waited);
        return;
      }
      if (this.logTimer) clearTimeout(this.logTimer);
      this.logTimer = null;
    }
    this.committing = true;
    const scored = this.scored;
    this.scored = [];
    let logged = true;
    try {
      this.stats.commitCalls++;
      if (afterAnswer) this.inFlightLogTexts = scored.reduce((n, s) => n + s.predictions.length, 0);
      await this.steps.commit(scored.map(({ waiting, predictions }) => ({ job: waiting.job, predictions })));
      this.logFailures = 0;
      if (!afterAnswer) this.answer(scored);
    } catch (error) {
      if (afterAnswer) {
        // Answered already: keep them, first in line, and try again later.
        logged = false;
        this.inFlightLogTexts = 0;
        this.scored = [...scored, ...this.scored];
        this.oldestUnloggedAt = 0; // the retry sends them as soon as it fires
        const retryInMs = (this.options.retryDelayMs ?? defaultRetryDelayMs)(++this.logFailures);
        this.options.onLogError?.(error, { texts: this.unloggedTexts, retryInMs });
        // Unref'd: a closing endpoint waits for the log (server.ts), a retry does not hold the process.
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          void this.commitScored();
        }, retryInMs).unref();
      } else for (const { waiting } of scored) waiting.reject(error);
    } finally {
      this.inFlightLogTexts = 0;
      if (logged) for (const { waiting } of scored) this.pendingTexts -= waiting.texts.length;
      this.committing = false;
      void this.commitScored();
      this.notifyIfIdle();
    }
  }

  /**
   * One predict for the whole batch. Should it fail, each request is scored alone, so a text
   * that breaks the model fails its own request and not the others batched with it. Never
   * throws: a request that failed is answered here.
   */
  private async score(batch: Waiting<J>[]): Promise<Scored<J>[]> {
    try {
      const all = await this.predict(batch.flatMap((w) => w.texts));
      let at = 0;
      return batch.map((waiting) => ({ waiting, predictions: all.slice(at, (at += waiting.texts.length)) }));
    } catch (error) {
      if (batch.length === 1) {
        this.fail(batch[0]!, error);
        return [];
      }
    }
    const scored: Scored<J>[] = [];
    for (const waiting of batch) {
      try {
        scored.push({ waiting, predictions: await this.predict(waiting.texts) });
      } catch (error) {
        this.fail(waiting, error);
      }
    }
    return scored;
  }

  private fail(waiting: Waiting<J>, error: unknown): void {
    this.pendingTexts -= waiting.texts.length;
    waiting.reject(error);
  }

  private async predict(texts: string[]): Promise<Prediction[]> {
    this.stats.predictCalls++;
    const predictions = await this.steps.predict(texts);
    if (predictions.length !== texts.length) throw new Error(`the scorer returned ${predictions.length} predictions for ${texts.length} texts`);
    return predictions;
  }
}

/** 0.5 s, doubling, at most 30 s: a restarting database is back within the first few tries. */
function defaultRetryDelayMs(attempt: number): number {
  return Math.min(30_000, 500 * 2 ** (attempt - 1));
}
