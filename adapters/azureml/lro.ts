// Long-running Azure operations that survive a worker's death. The SDK's poller state
// (which names the operation's status URL) is handed to `onState` after every poll; the
// activity heartbeats it, and a retried activity passes the last one back as `resumeFrom`,
// so it polls the same operation instead of starting a second one.
import type { PollerLike, PollOperationState } from '@azure/core-lro';
import { fromAzure } from './errors';

export interface LroOptions {
  /** Serialized poller state from a previous attempt (activity heartbeat details). */
  resumeFrom?: string;
  onState?: (state: string) => void;
  pollIntervalMs?: number;
}

export async function runLro<T>(
  what: string,
  begin: (options: { resumeFrom?: string; updateIntervalInMs: number }) => Promise<PollerLike<PollOperationState<T>, T>>,
  options: LroOptions = {},
): Promise<T> {
  let poller: PollerLike<PollOperationState<T>, T>;
  try {
    poller = await begin({ updateIntervalInMs: options.pollIntervalMs ?? 2000, ...(options.resumeFrom && { resumeFrom: options.resumeFrom }) });
  } catch (err) {
    throw fromAzure(what, err);
  }
  options.onState?.(poller.toString());
  poller.onProgress(() => options.onState?.(poller.toString()));
  try {
    return await poller.pollUntilDone();
  } catch (err) {
    throw fromAzure(what, err);
  }
}
