// Words for anything thrown, for messages that say what failed. Pure: the adapters' error
// classes and the lifecycle's status line use the same one.

/** An Error's message; anything else thrown, as a string. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
