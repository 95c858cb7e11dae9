import { threadId } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { callInThread, ThreadCallError } from './call-in-thread';
import { spin } from './call-in-thread.fixture';

const FIXTURE = new URL('./call-in-thread.fixture.ts', import.meta.url);

/** How many times a 5 ms timer fired while `work` ran: none if it held the event loop throughout. */
async function ticksDuring(work: () => unknown): Promise<number> {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return ticks;
}

describe('callInThread', () => {
  it('runs the export on another thread with the arguments given, and returns its result', async () => {
    const answer = await callInThread<{ threadId: number; label: string }>(FIXTURE, 'spin', [1, { label: 'ร้านนี้อร่อย' }]);
    expect(answer.label).toBe('ร้านนี้อร่อย');
    expect(answer.threadId).not.toBe(threadId);
    expect(await callInThread<number>(FIXTURE, 'later', [[1, 2, 3.5]])).toBe(6.5);
  });

  it('leaves the event loop free while the call works, where the same call here holds it', async () => {
    expect(await ticksDuring(() => spin(300, { label: 'here' }))).toBe(0);
    expect(await ticksDuring(() => callInThread(FIXTURE, 'spin', [300, { label: 'there' }]))).toBeGreaterThan(0);
  });

  it('rejects with the thrown error’s name and message, and keeps it permanent when it says so', async () => {
    const err = await callInThread(FIXTURE, 'refuse', []).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'RangeError', message: 'hiddenSize 63 is not divisible by numHeads 2', nonRetryable: true });
    expect((err as Error).stack).toContain('refuse');
  });

  it('names the module and export when the export is not a function', async () => {
    await expect(callInThread(FIXTURE, 'notAFunction', [])).rejects.toThrow(/call-in-thread\.fixture\.ts exports no function notAFunction/);
    await expect(callInThread(FIXTURE, 'missing', [])).rejects.toThrow(/exports no function missing/);
  });

  it('rejects with ThreadCallError when the thread ends without an answer', async () => {
    const err = await callInThread(FIXTURE, 'exitNow', []).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ThreadCallError);
    expect((err as Error).message).toMatch(/exitNow of .*call-in-thread\.fixture\.ts ended its thread \(exit code 3\) before it answered/);
  });
});
