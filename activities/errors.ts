// Failures activities report to workflows. Non-retryable ones mean "a human must change
// something"; their messages say what.
import { ApplicationFailure } from '@temporalio/activity';

export function userError(type: string, message: string, details?: Record<string, unknown>): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true, details: details ? [details] : [] });
}

export class UnknownClusterError extends Error {
  override name = 'UnknownClusterError';
  readonly nonRetryable = true;
  constructor(
    readonly cluster: string,
    readonly known: string[],
  ) {
    super(
      `The spec asks for cluster "${cluster}", but this worker knows only: ${known.join(', ')}. Set training.cluster to one of those, or add the cluster to the MLC_CONFIG file (README, "Configuration").`,
    );
  }
}

export class UnknownWorkspaceError extends Error {
  override name = 'UnknownWorkspaceError';
  readonly nonRetryable = true;
  constructor(
    readonly workspace: string,
    readonly known: string[],
  ) {
    super(
      `The spec deploys to Azure ML workspace "${workspace}", but this worker's configuration names ${known.length ? `only: ${known.join(', ')}` : 'no workspaces'}. Add it under "workspaces:" in the MLC_CONFIG file (see README, "Deploying to Azure ML"), or fix deployment.workspace.`,
    );
  }
}

function asFailure(err: unknown): unknown {
  // Whether retrying can help is said once, by the error class (`readonly nonRetryable = true`,
  // as the Temporal SDK's ApplicationFailure has it), never by a list of names kept here.
  if (err instanceof Error && !(err instanceof ApplicationFailure) && (err as { nonRetryable?: unknown }).nonRetryable === true) {
    return ApplicationFailure.create({ type: err.name, message: err.message, nonRetryable: true, cause: err });
  }
  // A service that said when to come back (429 Retry-After) is retried then, not sooner.
  const retryAfterMs = (err as { retryAfterMs?: unknown })?.retryAfterMs;
  if (err instanceof Error && !(err instanceof ApplicationFailure) && typeof retryAfterMs === 'number') {
    return ApplicationFailure.create({ type: err.name, message: err.message, nextRetryDelay: retryAfterMs, cause: err });
  }
  return err;
}

/** Every activity of a group, with permanent errors turned into non-retryable failures. */
export function withPermanentErrors<T extends Record<string, (...args: never[]) => Promise<unknown>>>(activities: T): T {
  return Object.fromEntries(
    Object.entries(activities).map(([name, fn]) => [
      name,
      async (...args: never[]) => {
        try {
          return await fn(...args);
        } catch (err) {
          throw asFailure(err);
        }
      },
    ]),
  ) as T;
}
