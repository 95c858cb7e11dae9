// What every command needs: config, a Temporal client (with the payload codec, like every
// client of the product), the way users name a lifecycle (the model name, or the workflow id
// itself), whether a worker is there to answer it, and the server's refusals worded for them.
import {
  Client,
  Connection,
  ServiceError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type WorkflowExecutionDescription,
  type WorkflowHandle,
} from '@temporalio/client';
import proto from '@temporalio/proto';
import { dataConverterFor } from '../adapters/temporal-codec/data-converter';
import { rootCauseMessage } from '../domain/errors';
import { lifecycleWorkflowId, searchAttributes } from '../domain/temporal-names';
import { loadConfig, type MlcConfig } from '../temporal.config';
import { CliError } from './cli-error';

export interface CliContext {
  config: MlcConfig;
  client: Client;
  close(): Promise<void>;
}

export async function openContext(): Promise<CliContext> {
  const config = loadConfig();
  const dataConverter = await dataConverterFor(config);
  let connection: Connection;
  try {
    connection = await Connection.connect({ address: config.temporal.address, connectTimeout: '5s' });
  } catch (err) {
    throw temporalUnreachable(config.temporal.address, err);
  }
  return { config, client: new Client({ connection, namespace: config.temporal.namespace, dataConverter }), close: () => connection.close() };
}

/**
 * The SDK's own message ("Failed to connect to Temporal server") hides what the server or the
 * channel said, e.g. a gRPC status with its code: that root cause is what tells a server down
 * from one that answered with an error.
 */
export const temporalUnreachable = (address: string, err: unknown) =>
  new CliError(
    `Cannot reach Temporal at ${address} (${rootCauseMessage(err)}). Start it with: bash scripts/services.sh start temporal (or set TEMPORAL_ADDRESS).`,
  );

/**
 * What the server said, worded for the command line. A lifecycle it does not have (status, logs,
 * audit, deploy, rollback, wait): one message that names it, the namespace looked in, and how to
 * list them. An update the lifecycle refused (a deployment asked for while it awaits its audit):
 * the lifecycle's own reason, which the SDK keeps in the error's cause. A query no worker took up:
 * what to start.
 */
export function describeTemporalError(ctx: CliContext, err: unknown): unknown {
  if (err instanceof WorkflowNotFoundError)
    return new CliError(`No lifecycle ${err.workflowId} in namespace ${ctx.config.temporal.namespace}. List them with: mlc status`);
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof Error) return new CliError(`refused: ${err.cause.message}`);
  // The worker went away after lifecycleHandle looked: the server waited 30 s for it.
  const details = err instanceof ServiceError ? (err.cause as { details?: unknown } | undefined)?.details : undefined;
  if (typeof details === 'string' && /no poller/i.test(details)) return new CliError(`The lifecycle did not answer: ${details}. ${START_WORKER}`);
  return err;
}

const START_WORKER =
  'Start one with npm run worker (README, "Driving it"): a worker answers a lifecycle\'s status, audits and deployments, and the lifecycle waits safely until one does.';
/** A worker that polled this recently is taken to be running: an idle one long-polls for up to a minute. */
const LIVE_POLL_MS = 2 * 60_000;

/**
 * The lifecycle's handle, once a worker is there to answer it. Its status, audits and deployments
 * are queries and updates, which only a worker polling its task queue answers; without one, the
 * server waits 30 s and says "Failed to query Workflow". So the command says at once what to
 * start, and where the lifecycle stands (from its search attributes, which need no worker).
 */
export async function lifecycleHandle(ctx: CliContext, id: string, opts: { toDecide?: boolean } = {}): Promise<WorkflowHandle> {
  return (await describedLifecycle(ctx, id, opts)).handle;
}

/** lifecycleHandle, with the description it read (for a caller that needs it: no second call). */
export async function describedLifecycle(
  ctx: CliContext,
  id: string,
  opts: { toDecide?: boolean } = {},
): Promise<{ handle: WorkflowHandle; described: WorkflowExecutionDescription }> {
  const handle = ctx.client.workflow.getHandle(workflowIdOf(id));
  const described = await handle.describe(); // a lifecycle that does not exist is said as such
  // The server answers an update to an ended execution as if it did not exist ("No lifecycle").
  const ended = endedAs(described);
  if (opts.toDecide && ended) throw new CliError(`${handle.workflowId} ${ended}, so it takes no more decisions. ${START_ANEW}`);
  const absent = await workerAbsence(ctx, described.taskQueue);
  if (absent === null) return { handle, described };
  const attrs = described.searchAttributes as Record<string, (string | number)[] | undefined>;
  const stage = attrs[searchAttributes.stage]?.[0];
  const version = attrs[searchAttributes.version]?.[0];
  const where =
    described.status.name === 'RUNNING' && stage
      ? `${handle.workflowId} was last ${stage}${version ? ` (version ${version})` : ''}`
      : `${handle.workflowId} is ${described.status.name}`;
  throw new CliError(`No worker is answering on task queue ${described.taskQueue} (${absent}). ${where}. ${START_WORKER}`);
}

const START_ANEW = 'Its records stay (mlc status, mlc history); start a new lifecycle for the model with: mlc start <spec>.';

/** How an execution that is no longer running ended, in words ("was CANCELLED at …"); null while it runs. */
export function endedAs(described: WorkflowExecutionDescription): string | null {
  const { name } = described.status;
  if (name === 'RUNNING') return null;
  const at = described.closeTime ? ` at ${described.closeTime.toISOString()}` : '';
  return name === 'FAILED' ? `failed${at} (see why with: mlc status ${described.workflowId})` : `was ${name}${at}`;
}

/**
 * Null when a worker polls `taskQueue` (or the server will not say: the call then tells);
 * otherwise since when none has, in words. A worker started a moment ago (a script that starts
 * one, then mlc) gets a few seconds to poll.
 */
export async function workerAbsence(ctx: CliContext, taskQueue: string): Promise<string | null> {
  let lastPoll = await lastPollOf(ctx, taskQueue);
  for (let wait = 0; lastPoll !== undefined && !isLive(lastPoll) && wait < 3; wait++) {
    await new Promise((r) => setTimeout(r, 1000));
    lastPoll = await lastPollOf(ctx, taskQueue);
  }
  if (lastPoll === undefined || isLive(lastPoll)) return null;
  return lastPoll === null ? 'none has polled it lately' : `the last poll was ${Math.max(2, Math.round((Date.now() - lastPoll) / 60_000))} min ago`;
}

export const isLive = (lastPoll: number | null) => lastPoll !== null && Date.now() - lastPoll < LIVE_POLL_MS;

const TASK_QUEUE_TYPES = {
  workflow: proto.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
  activity: proto.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
};

/**
 * When a worker last polled `taskQueue` for tasks of that type (an activity-only worker, such as
 * the scoring one, polls for no workflow tasks): null when none lately; undefined when the server
 * would not say (the query then tells).
 */
export async function lastPollOf(ctx: CliContext, taskQueue: string, type: keyof typeof TASK_QUEUE_TYPES = 'workflow'): Promise<number | null | undefined> {
  try {
    const { pollers } = await ctx.client.workflowService.describeTaskQueue({
      namespace: ctx.config.temporal.namespace,
      taskQueue: { name: taskQueue },
      taskQueueType: TASK_QUEUE_TYPES[type],
    });
    const times = pollers.flatMap((p) => (p.lastAccessTime ? [Number(p.lastAccessTime.seconds ?? 0) * 1000 + (p.lastAccessTime.nanos ?? 0) / 1e6] : []));
    return times.length ? Math.max(...times) : null;
  } catch {
    return undefined; // e.g. a server whose authorizer does not allow describing queues
  }
}

/** "thai-sentiment" and "mlc-thai-sentiment" both name the same lifecycle. */
export function workflowIdOf(idOrModel: string): string {
  return idOrModel.startsWith('mlc-') ? idOrModel : lifecycleWorkflowId(idOrModel);
}

export function uiLink(config: MlcConfig, workflowId: string): string {
  return `${config.temporal.uiUrl}/namespaces/${config.temporal.namespace}/workflows/${encodeURIComponent(workflowId)}`;
}
