import { describe, expect, it } from 'vitest';
import type { Prediction } from '../scoring/port';
import { MicroBatcher, QueueFullError, type BatchSteps, type MicroBatchLimits } from './micro-batcher';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const tick = () => new Promise((r) => setTimeout(r, 5));

/** Labels each text by itself, so a request that got another's predictions is seen at once. */
function steps(options: { holdPredict?: Promise<void>; holdCommit?: Promise<void>; failPredictOn?: string; failCommitOn?: string } = {}) {
  const calls = { predict: [] as string[][], commit: [] as string[][] };
  const s: BatchSteps<string> = {
    async predict(texts) {
      calls.predict.push(texts);
      if (options.holdPredict) await options.holdPredict;
      if (options.failPredictOn && texts.includes(options.failPredictOn)) throw new Error(`cannot score "${options.failPredictOn}"`);
      return texts.map((t): Prediction => ({ label: `L:${t}`, probabilities: { [t]: 1 } }));
    },
    async commit(results) {
      calls.commit.push(results.map((r) => r.job));
      if (options.holdCommit) await options.holdCommit;
      if (options.failCommitOn && results.some((r) => r.job === options.failCommitOn)) throw new Error('the log is down');
    },
  };
  return { steps: s, calls };
}

const limits = (over: Partial<MicroBatchLimits> = {}): MicroBatchLimits => ({ maxBatchTexts: 32, maxWaitMs: 2, maxPendingTexts: 1000, ...over });
const labels = (p: Prediction[]) => p.map((x) => x.label);

describe('MicroBatcher', () => {
  it('scores concurrent requests with one predict and one commit, each getting its own predictions in order', async () => {
    const { steps: s, calls } = steps();
    const b = new MicroBatcher(s, limits());
    const jobs = Array.from({ length: 10 }, (_, i) => [`r${i}`, [`a${i}`, `b${i}`, `c${i}`].slice(0, 1 + (i % 3))] as const);
    const answers = await Promise.all(jobs.map(([job, texts]) => b.submit(job, [...texts])));
    answers.forEach((a, i) => expect(labels(a)).toEqual(jobs[i]![1].map((t) => `L:${t}`)));
    expect(calls.predict).toHaveLength(1);
    expect(calls.commit).toEqual([jobs.map(([job]) => job)]);
    expect(b.stats).toEqual({ predictCalls: 1, commitCalls: 1, requests: 10, texts: 19 });
  });

  it('waits up to maxWaitMs for company only while requests come together, and not once a batch is full', async () => {
    const { steps: s, calls } = steps();
    const b = new MicroBatcher(s, limits({ maxBatchTexts: 3, maxWaitMs: 60_000 }));
    // A lone request leaves at once: nothing suggests company is coming.
    expect(labels(await b.submit('r0', ['w']))).toEqual(['L:w']);
    // Requests that arrive in the same event-loop turn leave together...
    await Promise.all([b.submit('r1', ['a']), b.submit('r2', ['b'])]);
    expect(calls.predict).toEqual([['w'], ['a', 'b']]);
    // ...and from then on a batch waits for company, up to maxWaitMs, unless it fills up.
    let done = false;
    const next = Promise.all([b.submit('r3', ['x']), b.submit('r4', ['y'])]).then(() => (done = true));
    await tick();
    expect(done).toBe(false);
    await Promise.all([next, b.submit('r5', ['z'])]);
    expect(calls.predict).toEqual([['w'], ['a', 'b'], ['x', 'y', 'z']]);
  });

  it('never splits a request, and keeps arrival order across batches', async () => {
    const { steps: s, calls } = steps();
    const b = new MicroBatcher(s, limits({ maxBatchTexts: 4, maxWaitMs: 60_000 }));
    const answers = await Promise.all([b.submit('r0', ['a', 'b', 'c']), b.submit('r1', ['d', 'e']), b.submit('r2', ['f', 'g'])]);
    expect(calls.predict).toEqual([
      ['a', 'b', 'c'],
      ['d', 'e', 'f', 'g'],
    ]);
    expect(answers.map(labels)).toEqual([
      ['L:a', 'L:b', 'L:c'],
      ['L:d', 'L:e'],
      ['L:f', 'L:g'],
    ]);
  });

  it('scores one batch at a time; what arrives meanwhile forms the next batch', async () => {
    const hold = deferred();
    const { steps: s, calls } = steps({ holdPredict: hold.promise });
    const b = new MicroBatcher(s, limits({ maxWaitMs: 0 }));
    const first = b.submit('r0', ['a']);
    await tick();
    const rest = [1, 2, 3, 4].map((i) => b.submit(`r${i}`, [`t${i}`]));
    await tick();
    expect(calls.predict).toEqual([['a']]);
    hold.resolve();
    await Promise.all([first, ...rest]);
    expect(calls.predict).toEqual([['a'], ['t1', 't2', 't3', 't4']]);
  });

  it('answers nobody before their batch is logged, scores the next batches meanwhile, and logs those together', async () => {
    const hold = deferred();
    const { steps: s, calls } = steps({ holdCommit: hold.promise });
    const b = new MicroBatcher(s, limits());
    const answered: string[] = [];
    const submit = (job: string, text: string) => b.submit(job, [text]).then(() => void answered.push(job));
    const first = submit('r0', 'a');
    await tick();
    const later = [submit('r1', 'b')];
    await tick();
    later.push(submit('r2', 'c'));
    await tick();
    // r1 and r2 were scored while r0's log call was in flight, and wait for the next one.
    expect(calls.predict).toEqual([['a'], ['b'], ['c']]);
    expect(calls.commit).toEqual([['r0']]);
    expect(answered).toEqual([]);
    hold.resolve();
    await Promise.all([first, ...later]);
    expect(calls.commit).toEqual([['r0'], ['r1', 'r2']]);
    expect(answered).toEqual(['r0', 'r1', 'r2']);
    expect(b.stats).toEqual({ predictCalls: 3, commitCalls: 2, requests: 3, texts: 3 });
  });

  it('logs a batch scored across the start of a log call in a call of its own, never answering it unlogged', async () => {
    // Batch 3 is being scored when the log call for batch 2 starts, and is done after it ends.
    const commitGates = [deferred(), deferred()];
    const predictGates = new Map([['c', deferred()]]);
    const calls = { predict: [] as string[][], commit: [] as string[][] };
    const b = new MicroBatcher<string>(
      {
        async predict(texts) {
          calls.predict.push(texts);
          await predictGates.get(texts[0]!)?.promise;
          return texts.map((t) => ({ label: `L:${t}`, probabilities: { [t]: 1 } }));
        },
        async commit(results) {
          calls.commit.push(results.map((r) => r.job));
          await commitGates[calls.commit.length - 1]?.promise;
        },
      },
      limits(),
    );
    const answered: string[] = [];
    const submit = (job: string, text: string) => b.submit(job, [text]).then(() => void answered.push(job));
    const all = [submit('r0', 'a')];
    await tick(); // r0 scored, its log call held
    all.push(submit('r1', 'b'));
    await tick(); // r1 scored, waiting for the next call
    all.push(submit('r2', 'c'));
    await tick(); // r2 being scored
    commitGates[0]!.resolve();
    await tick(); // r0 answered; r1's call starts (held)
    expect(calls.commit).toEqual([['r0'], ['r1']]);
    predictGates.get('c')!.resolve();
    await tick(); // r2 scored while r1's call runs: it waits for a call of its own
    commitGates[1]!.resolve();
    await Promise.all(all);
    expect(calls.commit).toEqual([['r0'], ['r1'], ['r2']]);
    expect(answered).toEqual(['r0', 'r1', 'r2']);
    expect(b.stats).toMatchObject({ commitCalls: 3, texts: 3 });
  });

  it('fails every request of a failed group log, and none logged by another call', async () => {
    const hold = deferred();
    const { steps: s, calls } = steps({ holdCommit: hold.promise, failCommitOn: 'r2' });
    const b = new MicroBatcher(s, limits());
    const first = b.submit('r0', ['a']);
    await tick();
    const grouped = [b.submit('r1', ['b'])];
    await tick();
    grouped.push(b.submit('r2', ['c']));
    await tick();
    hold.resolve();
    const results = await Promise.allSettled([first, ...grouped]);
    expect(calls.commit).toEqual([['r0'], ['r1', 'r2']]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected']);
    expect(labels(await b.submit('r3', ['z']))).toEqual(['L:z']);
  });

  it('fails exactly the batch whose logging failed', async () => {
    const hold = deferred();
    const { steps: s, calls } = steps({ holdPredict: hold.promise, failCommitOn: 'r2' });
    const b = new MicroBatcher(s, limits({ maxWaitMs: 0 }));
    const first = b.submit('r0', ['a']);
    await tick();
    const second = ['r1', 'r2', 'r3'].map((job) => b.submit(job, [job]));
    await tick();
    hold.resolve();
    const results = await Promise.allSettled([first, ...second]);
    expect(calls.commit).toEqual([['r0'], ['r1', 'r2', 'r3']]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'rejected']);
    expect((results[2] as PromiseRejectedResult).reason.message).toBe('the log is down');
    // The next batch is unaffected.
    expect(labels(await b.submit('r4', ['z']))).toEqual(['L:z']);
  });

  it('scores a failed batch request by request, so one bad text fails only its own request', async () => {
    const { steps: s, calls } = steps({ failPredictOn: 'poison' });
    const b = new MicroBatcher(s, limits());
    const results = await Promise.allSettled([b.submit('r0', ['a']), b.submit('r1', ['poison']), b.submit('r2', ['b', 'c'])]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(labels((results[2] as PromiseFulfilledResult<Prediction[]>).value)).toEqual(['L:b', 'L:c']);
    expect(calls.predict).toEqual([['a', 'poison', 'b', 'c'], ['a'], ['poison'], ['b', 'c']]);
    expect(calls.commit).toEqual([['r0', 'r2']]); // the failed request is not logged
  });

  it('refuses work past maxPendingTexts, counting texts being scored and logged, and takes it again once they are done', async () => {
    const hold = deferred();
    const { steps: s } = steps({ holdCommit: hold.promise });
    const b = new MicroBatcher(s, limits({ maxPendingTexts: 5, maxWaitMs: 0 }));
    const first = b.submit('r0', ['a', 'b', 'c']);
    await tick(); // r0 is being logged, no longer queued: it still counts
    const refused = b.submit('r1', ['d', 'e', 'f']);
    await expect(refused).rejects.toThrow(QueueFullError);
    await expect(refused).rejects.toMatchObject({ pendingTexts: 3, limit: 5 });
    hold.resolve();
    await first;
    expect(labels(await b.submit('r2', ['d', 'e', 'f']))).toEqual(['L:d', 'L:e', 'L:f']);
    // A request larger than the bound still runs when nothing else waits.
    expect(await b.submit('r3', ['1', '2', '3', '4', '5', '6'])).toHaveLength(6);
  });

  it('keeps as many batches scoring as the scorer runs at once, and no more', async () => {
    const hold = deferred();
    const { steps: s, calls } = steps({ holdPredict: hold.promise });
    const b = new MicroBatcher(s, limits({ maxWaitMs: 0 }), undefined, { concurrency: 2 });
    const first = b.submit('r0', ['a']);
    await tick();
    const second = b.submit('r1', ['b']); // a second copy is free: scored at once
    await tick();
    const waiting = [b.submit('r2', ['c']), b.submit('r3', ['d'])]; // both copies busy: these wait, together
    await tick();
    expect(calls.predict).toEqual([['a'], ['b']]);
    hold.resolve();
    await Promise.all([first, second, ...waiting]);
    expect(calls.predict).toEqual([['a'], ['b'], ['c', 'd']]);
    expect(b.stats.texts).toBe(4);
    expect(() => new MicroBatcher(s, limits(), undefined, { concurrency: 0 })).toThrow(RangeError);
  });

  it('drops a request aborted while it waits, unscored and unlogged', async () => {
    const hold = deferred();
    const { steps: s, calls } = steps({ holdPredict: hold.promise });
    const b = new MicroBatcher(s, limits({ maxWaitMs: 0 }));
    const first = b.submit('r0', ['a']);
    await tick();
    const abort = new AbortController();
    const dropped = b.submit('r1', ['gone'], abort.signal);
    const kept = b.submit('r2', ['kept']);
    abort.abort(new Error('timed out'));
    await expect(dropped).rejects.toThrow('timed out');
    hold.resolve();
    await Promise.all([first, kept]);
    expect(calls.predict).toEqual([['a'], ['kept']]);
    expect(calls.commit).toEqual([['r0'], ['r2']]);
    expect(b.stats.texts).toBe(2);
  });

  describe("logging: 'after-answer'", () => {
    it('answers once scored, logs right behind, and says when every answer is on record', async () => {
      const hold = deferred();
      const { steps: s, calls } = steps({ holdCommit: hold.promise });
      const b = new MicroBatcher(s, limits({ maxWaitMs: 0 }), undefined, { logging: 'after-answer', logDelayMs: 0 });
      // Answered while the log call still hangs (before-answer would wait for it).
      expect(labels(await b.submit('r0', ['a', 'b']))).toEqual(['L:a', 'L:b']);
      expect(calls.commit).toEqual([['r0']]);
      expect(b.unloggedTexts).toBe(2);
      let idle = false;
      const whenIdle = b.whenIdle().then(() => (idle = true));
      await tick();
      expect(idle).toBe(false);
      hold.resolve();
      await whenIdle;
      expect(b.unloggedTexts).toBe(0);
      expect(b.stats).toEqual({ predictCalls: 1, commitCalls: 1, requests: 1, texts: 2 });
    });

    it('retries a failed log call with the same predictions, once each, and reports the failure', async () => {
      let failures = 1;
      const committed: string[][] = [];
      const reported: { texts: number; retryInMs: number }[] = [];
      const b = new MicroBatcher<string>(
        {
          predict: async (texts) => texts.map((t) => ({ label: `L:${t}`, probabilities: { [t]: 1 } })),
          async commit(results) {
            if (failures-- > 0) throw new Error('the log is down');
            committed.push(results.map((r) => r.job));
          },
        },
        limits({ maxWaitMs: 0 }),
        undefined,
        { logging: 'after-answer', logDelayMs: 0, retryDelayMs: () => 20, onLogError: (_e, context) => reported.push(context) },
      );
      expect(labels(await b.submit('r0', ['a']))).toEqual(['L:a']);
      expect(labels(await b.submit('r1', ['b']))).toEqual(['L:b']); // answered while r0's log waits for its retry
      await b.whenIdle();
      expect(reported).toEqual([{ texts: 1, retryInMs: 20 }]);
      expect(committed.flat().sort()).toEqual(['r0', 'r1']);
      expect(b.unloggedTexts).toBe(0);
    });

    it('counts unlogged texts as pending, so a log that stays down sheds new requests', async () => {
      const b = new MicroBatcher<string>(
        {
          predict: async (texts) => texts.map((t) => ({ label: `L:${t}`, probabilities: { [t]: 1 } })),
          commit: async () => {
            throw new Error('the log is down');
          },
        },
        limits({ maxWaitMs: 0, maxPendingTexts: 3 }),
        undefined,
        { logging: 'after-answer', retryDelayMs: () => 60_000 },
      );
      await b.submit('r0', ['a', 'b']);
      await b.submit('r1', ['c']);
      await expect(b.submit('r2', ['d'])).rejects.toBeInstanceOf(QueueFullError);
      expect(b.unloggedTexts).toBe(3);
    });

    it('holds the log call up to logDelayMs, so the answers of that time are logged in one call', async () => {
      const { steps: s, calls } = steps();
      const b = new MicroBatcher(s, limits({ maxWaitMs: 0 }), undefined, { logging: 'after-answer', logDelayMs: 80 });
      for (const job of ['r0', 'r1', 'r2']) await b.submit(job, [job]); // one after another: three batches
      expect(calls.predict).toEqual([['r0'], ['r1'], ['r2']]);
      expect(calls.commit).toEqual([]);
      expect(b.unloggedTexts).toBe(3);
      await b.whenIdle();
      expect(calls.commit).toEqual([['r0', 'r1', 'r2']]);
    });

    it('refuses an unknown logging mode', () => {
      expect(() => new MicroBatcher(steps().steps, limits(), undefined, { logging: 'never' as never })).toThrow(
        /logging must be one of before-answer, after-answer/,
      );
    });
  });
});
