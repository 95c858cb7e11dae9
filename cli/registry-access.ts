// Where `mlc runs`, `mlc alias`, `mlc evaluate` and `mlc history` read the registry: PostgreSQL directly when
// DATABASE_URL is set; otherwise through a running worker, because the embedded registry
// (PGlite) belongs to the worker's process (see workflows/admin.ts, activities/tracking.ts).
import { randomUUID } from 'node:crypto';
import { ApplicationFailure, TimeoutFailure, WorkflowFailedError, type Client } from '@temporalio/client';
import { trackingMethods, type TrackingRegistry } from '../activities/tracking';
import { CHAMPION } from '../adapters/db/aliases';
import { openRegistry } from '../adapters/db/open';
import { monitoringScheduleId, taskQueues } from '../domain/temporal-names';
import { loadConfig, type MlcConfig } from '../temporal.config';
import { CliError } from './cli-error';
import { openContext, workerAbsence, type CliContext } from './context';

export interface TrackingAccess {
  registry: TrackingRegistry;
  close(): Promise<void>;
}

export async function openTracking(config: MlcConfig = loadConfig()): Promise<TrackingAccess> {
  if (config.databaseUrl) {
    const registry = await openRegistry({ databaseUrl: config.databaseUrl, dataDir: config.paths.data });
    return { registry, close: () => registry.close() };
  }
  const ctx = await openContext();
  const absent = await workerAbsence(ctx, taskQueues.control);
  if (absent !== null) {
    await ctx.close();
    throw new CliError(`no worker polls task queue ${taskQueues.control} (${absent}): ${THROUGH_A_WORKER}`);
  }
  return { registry: workerRegistry(ctx.client), close: () => ctx.close() };
}

const THROUGH_A_WORKER =
  'the embedded registry is read through a running worker. Start one (npm run worker; restart it if it predates this mlc), or set DATABASE_URL to the PostgreSQL registry the workers use.';

// Long enough for a busy worker; short enough that a missing one is reported, not waited for.
const WORKER_ANSWER_TIMEOUT = '1 minute';

/** The tracking part of the registry, each call a short workflow answered by a worker. */
export function workerRegistry(client: Pick<Client, 'workflow'>): TrackingRegistry {
  const call = async (method: string, args: unknown[]): Promise<unknown> => {
    try {
      return await client.workflow.execute<(request: { method: string; args: unknown[] }) => Promise<unknown>>('trackingRequest', {
        taskQueue: taskQueues.control,
        workflowId: `mlc-admin-trackingRequest-${randomUUID()}`,
        args: [{ method, args }],
        workflowExecutionTimeout: WORKER_ANSWER_TIMEOUT,
      });
    } catch (err) {
      throw workerFailure(err);
    }
  };
  return Object.fromEntries(trackingMethods.map((m) => [m, (...args: unknown[]) => call(m, args)])) as unknown as TrackingRegistry;
}

/**
 * The worker's own reason (an unknown version, a refused alias, data outside its roots), or why
 * no worker answered: `within` the request's timeout, `then` what to do about it.
 */
export function workerFailure(err: unknown, { within = WORKER_ANSWER_TIMEOUT, then = THROUGH_A_WORKER } = {}): unknown {
  if (!(err instanceof WorkflowFailedError)) return err;
  let cause: unknown = err.cause;
  while (cause instanceof Error && !(cause instanceof ApplicationFailure) && !(cause instanceof TimeoutFailure) && cause.cause) cause = cause.cause;
  if (cause instanceof ApplicationFailure) return new CliError(cause.message, cause.nonRetryable ? 2 : 1);
  if (cause instanceof TimeoutFailure || err.cause instanceof TimeoutFailure) {
    return new CliError(`no worker answered on task queue ${taskQueues.control} within ${within}: ${then}`);
  }
  return err;
}

/**
 * The version the model's `champion` alias names: the one its endpoint serves, whichever
 * lifecycle deployed it. Null when none is; undefined when the registry cannot be read now (the
 * caller only adds it to what it shows). A model never deployed has no monitoring Schedule: that
 * one cheap call spares the registry read (on the embedded registry, a workflow) in the common case.
 */
export async function championOf(ctx: CliContext, model: string): Promise<number | null | undefined> {
  const everDeployed = await ctx.client.schedule
    .getHandle(monitoringScheduleId(model))
    .describe()
    .then(() => true)
    .catch(() => false);
  if (!everDeployed) return null;
  const access = ctx.config.databaseUrl ? await openTracking(ctx.config).catch(() => null) : { registry: workerRegistry(ctx.client), close: async () => {} };
  if (!access) return undefined;
  try {
    const aliases = await access.registry.listModelAliases(model);
    return aliases.find((a) => a.alias === CHAMPION)?.version ?? null;
  } catch {
    return undefined;
  } finally {
    await access.close();
  }
}
