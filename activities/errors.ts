// Failures activities report to workflows. Non-retryable ones mean "a human must change
// something"; their messages say what.
import { ApplicationFailure } from '@temporalio/activity';

export function userError(type: string, message: string, details?: Record<string, unknown>): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true, details: details ? [details] : [] });
}

/** Named error classes from adapters that retrying cannot fix. */
const permanent = new Set([
  'SpecError', 'DatasetError', 'DatasetNotFoundError', 'ArtifactKeyError', 'ArtifactIntegrityError',
  'HostKeyMismatchError', 'HostKeyUnknownError', 'UnknownClusterError', 'ScoringError', 'ModelFilesMissingError',
]);

/** Run fn; turn adapter errors that retrying cannot fix into non-retryable failures. */
export async function asActivity<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ApplicationFailure) throw err;
    if (err instanceof Error && (permanent.has(err.name) || permanent.has(err.constructor.name))) {
      throw ApplicationFailure.create({ type: err.name, message: err.message, nonRetryable: true, cause: err });
    }
    throw err;
  }
}
