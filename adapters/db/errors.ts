// Registry failures a caller can act on. Each names what failed, where, and what to do; the
// driver's error stays as `cause` for the logs.
import { messageOf } from '../../domain/errors';

/** Cannot reach or log in to PostgreSQL. `url` never contains the password. */
export class RegistryConnectionError extends Error {
  override readonly name = 'RegistryConnectionError';
  constructor(
    readonly url: string,
    readonly code: string | undefined,
    options: { cause: unknown },
  ) {
    super(
      `cannot connect to the registry database at ${url}` +
        `: ${withCode(messageOf(driverError(options.cause)), code)}. Check that PostgreSQL is running and DATABASE_URL is right ` +
        `(host, port, user, database), or unset DATABASE_URL to use the embedded PGlite registry.`,
      options,
    );
  }
}

/** Another live process has the embedded (PGlite) registry open; PGlite is single-process. */
export class RegistryLockedError extends Error {
  override readonly name = 'RegistryLockedError';
  constructor(
    readonly lockPath: string,
    readonly pid: number,
    readonly hostname: string,
  ) {
    super(
      `the embedded registry is in use by process ${pid} on ${hostname} (lock ${lockPath}). ` +
        `PGlite allows one process at a time: stop that process, or set DATABASE_URL to a ` +
        `PostgreSQL database so the worker, CLI and endpoint can share the registry.`,
    );
  }
}

/** Reached the database (or PGlite folder) but could not start it or migrate its schema. */
export class RegistryOpenError extends Error {
  override readonly name = 'RegistryOpenError';
  constructor(
    readonly location: string,
    readonly step: 'start' | 'migrate',
    options: { cause: unknown },
  ) {
    super(
      `${step === 'start' ? 'starting' : 'migrating'} the registry at ${location} failed: ${messageOf(driverError(options.cause))}` +
        (step === 'start' ? '. The folder may be damaged or written by another PGlite version.' : ''),
      options,
    );
  }
}

export class RunNotFoundError extends Error {
  override readonly name = 'RunNotFoundError';
  constructor(readonly runKey: string) {
    super(`no run with key ${runKey} in the registry; createRun must come before updateRun`);
  }
}

/** A natural key was reused for different content: a bug upstream, never retried away. */
export class RegistryConflictError extends Error {
  override readonly name = 'RegistryConflictError';
  /** Retrying cannot fix it: the activity fails at once (see activities/errors.ts). */
  readonly nonRetryable = true;
  constructor(
    readonly table: string,
    readonly key: string,
    readonly detail: string,
  ) {
    super(`${table} ${key} is already registered with different content: ${detail}`);
  }
}

/** The version a retirement was judged for is no longer the live one: a deployment landed meanwhile. */
export class DeploymentChangedError extends Error {
  override readonly name = 'DeploymentChangedError';
  /** Retrying cannot fix it: the decision was about another version. */
  readonly nonRetryable = true;
  constructor(
    readonly model: string,
    readonly judged: number,
    readonly live: number,
  ) {
    super(`version ${judged} of ${model} is no longer the deployed one (version ${live} is): nothing was taken off; see mlc status ${model} and ask again`);
  }
}

/** A feedback row that names neither a text nor a served request: nothing to judge it against. */
export class InvalidFeedbackError extends Error {
  override readonly name = 'InvalidFeedbackError';
  constructor(
    readonly model: string,
    /** 0-based positions in the batch given to addFeedback. */
    readonly rows: number[],
  ) {
    super(
      `feedback for ${model}: row${rows.length > 1 ? 's' : ''} ${rows.slice(0, 10).join(', ')}${rows.length > 10 ? ', …' : ''} ` +
        `name${rows.length > 1 ? '' : 's'} neither a text nor a requestId; give each row the text that was scored, the requestId it was served under, or both`,
    );
  }
}

/** An alias pointed at a version the model does not have. */
export class UnknownModelVersionError extends Error {
  override readonly name = 'UnknownModelVersionError';
  readonly nonRetryable = true;
  constructor(
    readonly model: string,
    readonly version: number,
  ) {
    super(`${model} has no version ${version} in the registry; mlc runs ${model} lists the runs and the versions they became`);
  }
}

/** An alias name that cannot be set by hand (malformed, or one only a deployment moves). */
export class AliasRefusedError extends Error {
  override readonly name = 'AliasRefusedError';
  readonly nonRetryable = true;
  constructor(
    readonly alias: string,
    why: string,
  ) {
    super(why);
  }
}

// "connect ECONNREFUSED ..." already says its code; "database x does not exist" does not.
const withCode = (message: string, code: string | undefined) => (code && !message.includes(code) ? `${message} (${code})` : message);

/** drizzle wraps driver errors in "Failed query: ..."; the driver's error is the useful one. */
function driverError(error: unknown): unknown {
  const cause = error instanceof Error ? (error as { cause?: unknown }).cause : undefined;
  return cause instanceof Error && (error as Error).message.startsWith('Failed query') ? cause : error;
}

/** The SQLSTATE or errno code anywhere in the cause chain (drizzle wraps driver errors). */
export function errorCode(error: unknown): string | undefined {
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/** postgres://user:secret@host/db → postgres://user:***@host/db, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparsable DATABASE_URL>';
  }
}
