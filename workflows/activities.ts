// Activity stubs for workflows, one set per task queue. Timeouts live here, next to the
// reason for each: workflows stay free of numbers that only matter to operations.
import { proxyActivities } from '@temporalio/workflow';
import type { ControlActivities, ScoringActivities } from '../activities';
import { taskQueues } from '../domain/temporal-names';

// Registry writes, artifact bookkeeping and SLURM submission: short, idempotent, retried.
export const control = proxyActivities<ControlActivities>({
  taskQueue: taskQueues.control,
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
});

// Each call waits for the next change of a job's state (at most `maxWaitMs`), so history
// grows with state changes, not with polls. The heartbeat timeout moves the wait to another
// worker within a minute if this one dies; the job itself is untouched.
export const jobWatch = proxyActivities<ControlActivities>({
  taskQueue: taskQueues.control,
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '2s', maximumInterval: '30s', nonRetryableErrorTypes: ['JobFailed'] },
});

// ONNX scoring of whole splits and feedback sets: CPU-heavy, own queue.
export const scoring = proxyActivities<ScoringActivities>({
  taskQueue: taskQueues.scoring,
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '5s', maximumAttempts: 5 },
});
