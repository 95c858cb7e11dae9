// Words for anything thrown, for messages that say what failed. Pure: the adapters' error
// classes and the lifecycle's status line use the same one.

/** An Error's message; anything else thrown, as a string. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The innermost cause's message: what a person needs to read. Temporal wraps an activity's
 * failure ("Activity task failed") around the error that says what went wrong and what to do.
 */
export function rootCauseMessage(error: unknown): string {
  let e = error;
  for (let depth = 0; depth < 10 && e instanceof Error && e.cause instanceof Error && e.cause.message; depth++) e = e.cause;
  return messageOf(e);
}
