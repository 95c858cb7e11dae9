/** A failure the user can act on: printed as "mlc: <message>" with its exit code, no stack. Apart
 * from ./context so that commands which never talk to Temporal do not load its client. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}
