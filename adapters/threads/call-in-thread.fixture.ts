// Functions for call-in-thread.test.ts to call in a worker thread.
import { threadId } from 'node:worker_threads';

/** Holds its thread for `ms` milliseconds, then says which thread it ran on. */
export function spin(ms: number, tag: { label: string }): { threadId: number; label: string } {
  const until = performance.now() + ms;
  while (performance.now() < until);
  return { threadId, label: tag.label };
}

export async function later(value: number[]): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 5));
  return value.reduce((s, x) => s + x, 0);
}

export function refuse(): never {
  throw Object.assign(new RangeError('hiddenSize 63 is not divisible by numHeads 2'), { nonRetryable: true });
}

export function exitNow(): never {
  process.exit(3); // in a worker thread: ends the thread, not the process
}

export const notAFunction = 42;
