// CPU-bound pure work off the event loop. A Node worker runs activities on its one event loop,
// and in the demo (one process) the endpoint shares it: a monitoring run's drift statistics,
// seconds of arithmetic, would hold every request, heartbeat and poll for that long (the
// endpoint sheds requests past a second of event-loop delay). callInThread runs one call of an
// exported function in a worker thread of its own and ends the thread when it answers.
import type { CallAnswer, ThreadCall } from './call-in-thread-main';
import { moduleBeside, startThread } from './start-thread';

/** The thread ended (crashed, or exited) before it answered. */
export class ThreadCallError extends Error {
  override name = 'ThreadCallError';
}

const CALL_MAIN = moduleBeside(import.meta.url, './call-in-thread-main');

/**
 * `exportName(...args)` of `module` (a URL: build it with moduleBeside), run in a new worker
 * thread. Arguments and result cross by structured clone, so plain data only. A thrown error
 * comes back with its name, message and `nonRetryable`, so activities' failure mapping holds.
 */
export function callInThread<T>(module: URL, exportName: string, args: unknown[]): Promise<T> {
  const worker = startThread(CALL_MAIN, { module: module.href, exportName, args } satisfies ThreadCall);
  return new Promise<T>((resolve, reject) => {
    let answered = false;
    worker.once('message', (answer: CallAnswer) => {
      answered = true;
      void worker.terminate();
      if (answer.ok) return resolve(answer.value as T);
      const { name, message, stack, nonRetryable } = answer.error;
      reject(Object.assign(new Error(message), { name, ...(stack && { stack }), ...(nonRetryable && { nonRetryable }) }));
    });
    worker.once('error', (e) => reject(new ThreadCallError(`${exportName} of ${module.pathname} crashed its thread: ${e.message}`, { cause: e })));
    worker.once('exit', (code) => {
      if (!answered) reject(new ThreadCallError(`${exportName} of ${module.pathname} ended its thread (exit code ${code}) before it answered`));
    });
  });
}
