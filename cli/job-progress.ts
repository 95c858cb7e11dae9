// The running training job's progress, as the job watcher's last heartbeat carries it
// (activities/training.ts, awaitJobChange): read from the workflow's pending activities and
// decoded like every payload (through the codec: heartbeats are encrypted too).
import type { Client, WorkflowExecutionDescription } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { jobWatchBeatSchema, type JobProgress } from '../domain/training-progress';

export const JOB_WATCH_ACTIVITY = 'awaitJobChange';

/** Null when no job is being watched, the job has written no progress yet, or the heartbeat is of another shape (an older worker's). */
export async function jobProgressOf(client: Client, description: WorkflowExecutionDescription): Promise<JobProgress | null> {
  const watch = description.raw.pendingActivities?.find((a) => a.activityType?.name === JOB_WATCH_ACTIVITY);
  let payloads = (watch?.heartbeatDetails?.payloads ?? []) as Payload[];
  if (!payloads.length) return null;
  const { payloadCodecs, payloadConverter } = client.options.loadedDataConverter;
  try {
    for (const codec of [...payloadCodecs].reverse()) payloads = await codec.decode(payloads);
    const beat = jobWatchBeatSchema.safeParse(payloadConverter.fromPayload(payloads[0]!));
    if (!beat.success || (!beat.data.progress && !beat.data.trials?.length)) return null;
    return { progress: beat.data.progress, trials: beat.data.trials ?? [] };
  } catch {
    return null; // not a payload this CLI can read: the view is only a view
  }
}
