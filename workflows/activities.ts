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

// Deploying to the built-in endpoint: a registry write, then a wait (at most two minutes) until
// the endpoint serves the version, heartbeating every second. The heartbeat timeout hands the
// activity to another worker within 30 s if this one dies, instead of at start-to-close.
export const localDeploy = proxyActivities<ControlActivities>({
  taskQueue: taskQueues.control,
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
});

// Each call waits for the next change of a job's state (at most `maxWaitMs`), so history
// grows with state changes, not with polls. It heartbeats every 5 s (the worker lets one through
// every 10 s: workers/runtime.ts), so the heartbeat timeout moves the wait to another worker
// within 30 s if this one dies; the job itself is untouched.
export const jobWatch = proxyActivities<ControlActivities>({
  taskQueue: taskQueues.control,
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '2s', maximumInterval: '30s' },
});

// ONNX scoring of whole splits and feedback sets: CPU-heavy, own queue.
export const scoring = proxyActivities<ScoringActivities>({
  taskQueue: taskQueues.scoring,
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '5s', maximumAttempts: 5 },
});

// Azure ML: creating a deployment takes 5–15 minutes in Azure (image build, VMs), a traffic
// change a minute or two. The heartbeat carries the operation's poller state, so a worker
// that dies mid-operation is replaced within two minutes and resumes polling the same
// operation. Conflicts (another operation on the endpoint) and throttling retry with backoff;
// quota, a crashing container or bad credentials fail at once (their error classes say so).
export const azure = proxyActivities<ControlActivities>({
  taskQueue: taskQueues.control,
  startToCloseTimeout: '90 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 20 },
});
