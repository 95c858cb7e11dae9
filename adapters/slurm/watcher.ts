// One poller per cluster per process: every interval, ONE squeue for all tracked jobs; for
// jobs it no longer shows, ONE sacct (skipped for good once the cluster says accounting is
// off); and only for jobs that vanished from squeue since the last round, scontrol. A
// thousand waiting workflows cost the controller one squeue per interval, not a thousand.
import { SlurmCommandError, HostKeyMismatchError, HostKeyUnknownError } from './errors';
import type { JobRecord } from './parse';
import { isAccountingDisabledError, isInvalidJobIdError, parseSacct, parseScontrol, parseSqueue, sacctCommand, scontrolCommand, squeueCommand } from './parse';
import type { JobStatus } from './port';
import type { CommandRunner } from './ssh';
import { jobStatus, RecordIndex } from './status';
import { stateInfo } from './states';

export interface WatcherOptions {
  intervalMs: number;
  /** Rounds in a row a job may be missing from every source before it is reported UNKNOWN. */
  missingRoundsBeforeGone?: number;
  /** Failed rounds in a row (SSH down, controller down) before waiters are rejected. */
  maxConsecutiveFailures?: number;
  commandTimeoutMs?: number;
}

export interface CommandCounts {
  rounds: number;
  squeue: number;
  sacct: number;
  scontrol: number;
}

interface Tracked {
  last?: JobStatus;
  lastKey?: string;
  seenInSqueue: boolean;
  missingRounds: number;
  waiters: Set<Waiter>;
}

interface Waiter {
  resolve: (s: JobStatus) => void;
  reject: (e: unknown) => void;
  onUpdate?: (s: JobStatus) => void;
}

export class JobWatcher {
  readonly counts: CommandCounts = { rounds: 0, squeue: 0, sacct: 0, scontrol: 0 };
  /** Set once sacct says the cluster keeps no accounting. */
  accountingOff = false;
  private readonly tracked = new Map<string, Tracked>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private failures = 0;
  private readonly opts: Required<WatcherOptions>;

  constructor(
    private readonly runner: CommandRunner,
    options: WatcherOptions,
  ) {
    this.opts = { missingRoundsBeforeGone: 2, maxConsecutiveFailures: 5, commandTimeoutMs: 60_000, ...options };
  }

  get size(): number {
    return this.tracked.size;
  }

  /** Resolves with the job's first terminal status. Many calls for one id share its polling. */
  track(jobId: string, options: { onUpdate?: (s: JobStatus) => void; signal?: AbortSignal } = {}): Promise<JobStatus> {
    return new Promise<JobStatus>((resolve, reject) => {
      if (options.signal?.aborted) return reject(abortError(options.signal));
      let t = this.tracked.get(jobId);
      if (!t) {
        t = { seenInSqueue: false, missingRounds: 0, waiters: new Set() };
        this.tracked.set(jobId, t);
      }
      const { signal } = options;
      const onAbort = () => {
        const cur = this.tracked.get(jobId);
        if (cur?.waiters.delete(waiter) && cur.waiters.size === 0) this.tracked.delete(jobId);
        reject(abortError(signal!));
      };
      const waiter: Waiter = {
        resolve: (s) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(s);
        },
        reject: (e) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
        onUpdate: options.onUpdate,
      };
      t.waiters.add(waiter);
      if (t.last) safely(() => options.onUpdate?.(t.last!));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.schedule(0);
    });
  }

  /** One round for these ids, outside the tracking loop (ClusterExecutor.status). */
  async poll(jobIds: string[]): Promise<Map<string, JobStatus>> {
    const ids = [...new Set(jobIds)];
    const found = await this.round(ids, new Set());
    const out = new Map<string, JobStatus>();
    for (const id of ids) out.set(id, found.get(id) ?? unknownStatus(id));
    return out;
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const [, t] of this.tracked) for (const w of t.waiters) w.reject(new Error('the job watcher was closed'));
    this.tracked.clear();
  }

  private schedule(delayMs: number): void {
    if (this.timer || this.running || this.tracked.size === 0) return;
    // A zero delay still waits for the current tick, so jobs tracked together share a round.
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.tick().finally(() => {
        this.running = undefined;
        this.schedule(this.opts.intervalMs);
      });
    }, delayMs);
  }

  private async tick(): Promise<void> {
    const ids = [...this.tracked.keys()];
    if (ids.length === 0) return;
    const justLeft = new Set(ids.filter((id) => this.tracked.get(id)!.seenInSqueue));
    let found: Map<string, JobStatus>;
    let inSqueue: Set<string>;
    try {
      ({ found, inSqueue } = await this.roundDetailed(ids, justLeft));
      this.failures = 0;
    } catch (e) {
      this.failures++;
      const fatal = e instanceof HostKeyMismatchError || e instanceof HostKeyUnknownError;
      if (fatal || this.failures >= this.opts.maxConsecutiveFailures) this.rejectAll(e);
      return;
    }
    for (const id of ids) {
      const t = this.tracked.get(id);
      if (!t) continue; // aborted during the round
      t.seenInSqueue = inSqueue.has(id);
      let status = found.get(id);
      if (!status) {
        if (++t.missingRounds < this.opts.missingRoundsBeforeGone) continue;
        status = unknownStatus(id);
      } else {
        t.missingRounds = 0;
      }
      const key = statusKey(status);
      if (key !== t.lastKey) {
        t.last = status;
        t.lastKey = key;
        for (const w of t.waiters) safely(() => w.onUpdate?.(status));
      }
      if (status.phase === 'succeeded' || status.phase === 'failed') {
        this.tracked.delete(id);
        for (const w of t.waiters) w.resolve(status);
      }
    }
  }

  private rejectAll(e: unknown): void {
    for (const [id, t] of this.tracked) {
      this.tracked.delete(id);
      for (const w of t.waiters) w.reject(e);
    }
  }

  private async round(ids: string[], justLeft: Set<string>): Promise<Map<string, JobStatus>> {
    return (await this.roundDetailed(ids, justLeft)).found;
  }

  private async roundDetailed(ids: string[], justLeft: Set<string>): Promise<{ found: Map<string, JobStatus>; inSqueue: Set<string> }> {
    this.counts.rounds++;
    const found = new Map<string, JobStatus>();
    const settle = (records: JobRecord[], pending: string[]) => {
      const index = new RecordIndex(records);
      for (const id of pending) {
        const s = jobStatus(id, index);
        if (s) found.set(id, s);
      }
      return pending.filter((id) => !found.has(id));
    };

    let missing = settle(await this.squeue(ids), ids);
    const inSqueue = new Set(ids.filter((id) => found.has(id)));
    if (missing.length > 0 && !this.accountingOff) missing = settle(await this.sacct(missing), missing);
    // scontrol reads the same controller memory as `squeue --states=all`, so it is only asked,
    // one id per call, about jobs that were in squeue last round and are not now.
    for (const id of missing.filter((m) => justLeft.has(m))) settle(await this.scontrol(id), [id]);
    return { found, inSqueue };
  }

  private async squeue(ids: string[]): Promise<JobRecord[]> {
    this.counts.squeue++;
    const command = squeueCommand({ jobIds: ids });
    const r = await this.runner.exec(command, { timeoutMs: this.opts.commandTimeoutMs });
    if (r.code === 0) return parseSqueue(r.stdout);
    if (isInvalidJobIdError(r.stderr)) return []; // `squeue -j <one unknown id>` fails; a list does not
    throw new SlurmCommandError('squeue', r.code, r.stderr);
  }

  private async sacct(ids: string[]): Promise<JobRecord[]> {
    this.counts.sacct++;
    const r = await this.runner.exec(sacctCommand(ids), { timeoutMs: this.opts.commandTimeoutMs });
    if (r.code === 0) return parseSacct(r.stdout);
    if (isAccountingDisabledError(r.stderr) || /command not found/.test(r.stderr)) this.accountingOff = true;
    return []; // accounting is a fallback: its failure must not stop the polling
  }

  private async scontrol(id: string): Promise<JobRecord[]> {
    this.counts.scontrol++;
    const r = await this.runner.exec(scontrolCommand(id), { timeoutMs: this.opts.commandTimeoutMs });
    return r.code === 0 ? parseScontrol(r.stdout) : [];
  }
}

export function unknownStatus(jobId: string): JobStatus {
  const info = stateInfo('UNKNOWN');
  return { jobId, state: 'UNKNOWN', phase: info.phase, reason: info.hint, retryable: info.retryable };
}

/** What counts as a change worth an update: not the ever-growing elapsed time. */
function statusKey(s: JobStatus): string {
  const tasks = s.tasks
    ? Object.entries(s.tasks)
        .map(([i, t]) => `${i}=${t.state}`)
        .join(',')
    : '';
  return `${s.state}|${s.phase}|${s.reason ?? ''}|${s.exitCode ?? ''}|${s.restarts ?? ''}|${tasks}`;
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // a listener's bug must not stop the polling of every other job
  }
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new DOMException('waiting for the job was aborted', 'AbortError');
}
