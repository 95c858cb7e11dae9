// Failures of the compute adapter a caller can act on. Each names what failed, where, and what
// to do; the underlying error stays as `cause`. No message ever contains key material: only
// paths to keys and public-key fingerprints.
import { messageOf } from '../../domain/errors';
import type { JobStatus } from './port';

export { messageOf };

/** The cluster's host key differs from the pinned one: possibly a man in the middle. */
export class HostKeyMismatchError extends Error {
  override readonly name = 'HostKeyMismatchError';
  /** Retrying cannot fix it: the activity fails at once (see activities/errors.ts). */
  readonly nonRetryable = true;
  constructor(
    readonly host: string,
    readonly port: number,
    readonly expected: string[],
    readonly presented: string,
    readonly knownHostsPath: string,
    options?: { cause?: unknown },
  ) {
    super(
      `host key for ${hostLabel(host, port)} does not match the pinned key in ${knownHostsPath}: ` +
        `expected ${expected.join(' or ')}, the server presented ${presented}. ` +
        `Nothing was run on it. If the cluster's host key was rotated on purpose, confirm the new ` +
        `fingerprint with the cluster admins (out of band), then replace the entry in ${knownHostsPath}; ` +
        `otherwise treat this as a possible man-in-the-middle and do not connect.`,
      options,
    );
  }
}

/** The host has no entry in the pinned known_hosts file: we never accept a key blindly. */
export class HostKeyUnknownError extends Error {
  override readonly name = 'HostKeyUnknownError';
  /** Retrying cannot fix it: the activity fails at once (see activities/errors.ts). */
  readonly nonRetryable = true;
  constructor(
    readonly host: string,
    readonly port: number,
    readonly presented: string,
    readonly knownHostsPath: string,
    options?: { cause?: unknown },
  ) {
    const portArg = port === 22 ? '' : `-p ${port} `;
    super(
      `${hostLabel(host, port)} is not in the pinned known_hosts file ${knownHostsPath} ` +
        `(the server presented ${presented}). Pin it: run \`ssh-keyscan ${portArg}-t ed25519 ${host}\`, ` +
        `check that \`ssh-keygen -lf\` on its output shows ${presented} and that the cluster admins ` +
        `confirm that fingerprint, then append the line to ${knownHostsPath}.`,
      options,
    );
  }
}

/** Could not reach, or log in to, the cluster's SSH server. */
export class SshConnectionError extends Error {
  override readonly name = 'SshConnectionError';
  constructor(
    readonly host: string,
    readonly port: number,
    readonly hint: string,
    options: { cause: unknown },
  ) {
    super(`cannot connect over SSH to ${hostLabel(host, port)}: ${messageOf(options.cause)}. ${hint}`, options);
  }
}

/** A remote command did not finish in time; the channel was closed. */
export class SshTimeoutError extends Error {
  override readonly name = 'SshTimeoutError';
  constructor(
    readonly host: string,
    readonly command: string,
    readonly timeoutMs: number,
  ) {
    super(
      `\`${firstWord(command)}\` on ${host} did not finish within ${timeoutMs} ms. ` +
        `The SLURM controller may be overloaded or the connection stalled; it is retried on the next poll.`,
    );
  }
}

/** A SLURM command (sbatch, squeue, sacct, scontrol, scancel) exited non-zero. */
export class SlurmCommandError extends Error {
  override readonly name = 'SlurmCommandError';
  constructor(
    readonly command: string,
    readonly exitCode: number | null,
    readonly stderr: string,
    readonly hint = 'check the SLURM controller (`scontrol ping`) and the arguments above.',
    options?: { cause?: unknown },
  ) {
    super(`${command} failed (exit ${exitCode ?? 'signal'}): ${stderr.trim() || '(no stderr)'}; ${hint}`, options);
  }
}

/** A job request that cannot be turned into a safe batch script. Nothing was submitted. */
export class InvalidJobRequestError extends Error {
  override readonly name = 'InvalidJobRequestError';
  /** Retrying cannot fix it: the activity fails at once (see activities/errors.ts). */
  readonly nonRetryable = true;
  constructor(
    readonly field: string,
    readonly value: string,
    readonly rule: string,
  ) {
    super(`invalid ${field} ${JSON.stringify(value)}: ${rule}. Nothing was submitted; fix the value (spec, request or cluster config).`);
  }
}

/** The job reached a terminal state other than success. */
export class JobFailedError extends Error {
  override readonly name = 'JobFailedError';
  readonly jobId: string;
  readonly state: string;
  readonly exitCode: number | undefined;
  readonly hint: string;
  readonly retryable: boolean;
  constructor(
    status: JobStatus,
    readonly logTail: string,
    options?: { cause?: unknown },
  ) {
    const hint = status.reason ?? 'read the log tail below';
    super(
      `job ${status.jobId} ended ${status.state}` +
        (status.exitCode !== undefined ? ` (exit ${status.exitCode})` : '') +
        `: ${hint}` +
        (status.retryable ? ' (the cluster caused this: resubmitting is safe).' : '.') +
        (logTail.trim() ? `\n--- log tail ---\n${logTail.trimEnd()}` : ''),
      options,
    );
    this.jobId = status.jobId;
    this.state = status.state;
    this.exitCode = status.exitCode;
    this.hint = hint;
    this.retryable = status.retryable;
  }
}

function hostLabel(host: string, port: number): string {
  return port === 22 ? host : `${host}:${port}`;
}

function firstWord(command: string): string {
  return command.trim().split(/\s+/, 1)[0] ?? command;
}
