// The inside of callInThread (call-in-thread.ts): import the module, call the export with the
// arguments, post the result or the error, and end.
import { parentPort, workerData } from 'node:worker_threads';

export interface ThreadCall {
  module: string;
  exportName: string;
  args: unknown[];
}

/** An error crosses the thread as its name, message, stack and whether it is permanent. */
export interface CallFailure {
  name: string;
  message: string;
  stack?: string;
  nonRetryable?: boolean;
}

export type CallAnswer = { ok: true; value: unknown } | { ok: false; error: CallFailure };

async function call(): Promise<CallAnswer> {
  const { module, exportName, args } = workerData as ThreadCall;
  try {
    const exports = (await import(module)) as Record<string, unknown>;
    const fn = exports[exportName];
    if (typeof fn !== 'function') throw new TypeError(`${module} exports no function ${exportName}`);
    return { ok: true, value: await (fn as (...a: unknown[]) => unknown)(...args) };
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    const nonRetryable = (err as { nonRetryable?: unknown }).nonRetryable === true;
    return { ok: false, error: { name: err.name, message: err.message, stack: err.stack, ...(nonRetryable && { nonRetryable }) } };
  }
}

void call().then((answer) => parentPort!.postMessage(answer));
