// ClusterExecutor over SSH to a SLURM login node. Submitting is idempotent by key: the job's
// name (mlc-<key>) and the run folder's records (our slurm-job-id.submitted, train.py's
// slurm-job-id) point back to an earlier submission, so a worker that crashed right after
// sbatch, or an activity retried by Temporal, finds the job instead of queueing a second one.
import type { SlurmClusterConfig } from '../../temporal.config';
import { InvalidJobRequestError, SlurmCommandError } from './errors';
import { isAccountingDisabledError, parseSacct, parseSqueue, sacctCommand, squeueCommand } from './parse';
import type { ClusterExecutor, JobStatus, SubmitResult, TrainingJobRequest } from './port';
import { clusterRunDir, parseJobIdFile, renderBatchScript, resolveJob, submitCommand } from './sbatch';
import type { ResolvedJob } from './sbatch';
import { shellCommand, shellQuote } from './shell';
import { SshConnection } from './ssh';
import type { CommandRunner, SshOptions } from './ssh';
import { JobWatcher } from './watcher';
import type { WatcherOptions } from './watcher';

export interface SlurmExecutorOptions {
  /** Defaults to a pooled SSH connection to config.host; tests pass a fake. */
  runner?: CommandRunner;
  ssh?: SshOptions;
  watcher?: Partial<WatcherOptions>;
  commandTimeoutMs?: number;
}

const slurmJobId = /^\d+(_\d+)?$/;

export class SlurmExecutor implements ClusterExecutor {
  readonly runner: CommandRunner;
  readonly watcher: JobWatcher;
  private readonly inFlight = new Map<string, Promise<SubmitResult>>();
  private readonly timeoutMs: number;

  constructor(
    readonly config: SlurmClusterConfig,
    options: SlurmExecutorOptions = {},
  ) {
    this.timeoutMs = options.commandTimeoutMs ?? 60_000;
    this.runner = options.runner ?? new SshConnection(config, options.ssh);
    this.watcher = new JobWatcher(this.runner, { intervalMs: config.pollIntervalMs, commandTimeoutMs: this.timeoutMs, ...options.watcher });
  }

  submit(request: TrainingJobRequest): Promise<SubmitResult> {
    // Two calls with one key in this process: the second waits for, and reuses, the first.
    const pending = this.inFlight.get(request.key);
    if (pending) return pending.then((r) => ({ ...r, reused: true }));
    const p = this.submitOnce(request).finally(() => this.inFlight.delete(request.key));
    this.inFlight.set(request.key, p);
    return p;
  }

  private async submitOnce(request: TrainingJobRequest): Promise<SubmitResult> {
    const job = resolveJob(request, this.config); // refuses bad values before any command runs
    const script = renderBatchScript(request, this.config);
    const existing = await this.findExisting(request.key, job);
    if (existing) return { jobId: existing, reused: true };

    const r = await this.runner.exec(submitCommand(job, request.key), { stdin: script, timeoutMs: this.timeoutMs });
    const jobId = r.stdout.trim().split('\n').pop()?.trim() ?? '';
    if (r.code !== 0 || !/^\d+$/.test(jobId)) {
      throw new SlurmCommandError(
        'sbatch',
        r.code,
        r.stderr || r.stdout,
        'check the profile (partition, account, qos, gres, memory, time) against `sinfo` and `sacctmgr show assoc user=$USER`; nothing was queued',
      );
    }
    return { jobId, reused: false };
  }

  /** The job an earlier submit with this key created, if any. */
  async findExisting(key: string, job: ResolvedJob): Promise<string | undefined> {
    const q = await this.runner.exec(squeueCommand({ name: job.name, user: this.config.username }), { timeoutMs: this.timeoutMs });
    // Unsure is not "absent": refusing to submit beats queueing a duplicate.
    if (q.code !== 0) throw new SlurmCommandError('squeue --name', q.code, q.stderr, 'could not check for an earlier submission; nothing was submitted');
    const ids = [
      ...new Set(
        parseSqueue(q.stdout)
          .filter((r) => r.name === job.name)
          .map((r) => r.arrayJobId ?? r.id),
      ),
    ];
    if (ids.length > 0) return ids.sort((a, b) => Number(b) - Number(a))[0];

    // Gone from the controller (MinJobAge): the run folder remembers it. Ours carries the key.
    const ours = parseJobIdFile(await this.readRunFile(job.submitRecord));
    if (ours?.key === key) return ours.jobId;
    // train.py's bare "$SLURM_JOB_ID": only accounting can still say whose job that was.
    const theirs = parseJobIdFile(await this.readRunFile(job.jobIdFile));
    if (!theirs || this.watcher.accountingOff) return undefined;
    const a = await this.runner.exec(sacctCommand([theirs.jobId]), { timeoutMs: this.timeoutMs });
    if (a.code !== 0 && isAccountingDisabledError(a.stderr)) this.watcher.accountingOff = true;
    const mine = a.code === 0 && parseSacct(a.stdout).some((r) => r.name === job.name);
    return mine ? theirs.jobId.split('_')[0] : undefined;
  }

  /** A small file in the run folder on the cluster; '' when it does not exist. */
  private async readRunFile(file: string): Promise<string> {
    const f = await this.runner.exec(shellCommand(['cat', '--', file]), { timeoutMs: this.timeoutMs });
    if (f.code === 0) return f.stdout;
    if (/No such file/i.test(f.stderr)) return '';
    throw new SlurmCommandError(`cat ${file}`, f.code, f.stderr, 'could not read the run folder on the cluster; nothing was submitted');
  }

  async status(jobIds: string[]): Promise<Map<string, JobStatus>> {
    jobIds.forEach(checkJobId);
    return this.watcher.poll(jobIds);
  }

  async waitFor(jobId: string, options?: { onUpdate?: (status: JobStatus) => void; signal?: AbortSignal }): Promise<JobStatus> {
    checkJobId(jobId);
    return this.watcher.track(jobId, options);
  }

  async cancel(jobId: string): Promise<void> {
    checkJobId(jobId);
    const r = await this.runner.exec(shellCommand(['scancel', jobId]), { timeoutMs: this.timeoutMs });
    if (r.code === 0 || /Invalid job id|already completing or completed|Job has already finished/i.test(r.stderr)) return;
    throw new SlurmCommandError('scancel', r.code, r.stderr);
  }

  async logTail(runDir: string, jobId: string, lines = 100): Promise<string> {
    checkJobId(jobId);
    const n = Math.max(1, Math.min(10_000, Math.floor(lines)));
    const dir = clusterRunDir(runDir, this.config);
    // A job array's id has no log of its own; show every task's (tail prints a header per file).
    // The glob is built from a validated numeric id, so it is safe unquoted.
    const script = `cd ${shellQuote(dir)} && if [ -f slurm-${jobId}.out ]; then tail -n ${n} -- slurm-${jobId}.out; else tail -n ${n} -- slurm-${jobId}_*.out; fi`;
    const r = await this.runner.exec(shellCommand(['sh', '-c', script]), { timeoutMs: this.timeoutMs });
    if (r.code !== 0 && !r.stdout && /No such file|cannot open|can't cd/i.test(r.stderr)) return '';
    return r.stdout;
  }

  async close(): Promise<void> {
    this.watcher.stop();
    await this.runner.close();
  }
}

function checkJobId(jobId: string): void {
  if (!slurmJobId.test(jobId)) {
    throw new InvalidJobRequestError('jobId', jobId, 'a SLURM job id like "123" or "123_4" (ids like "local-…" belong to the local executor)');
  }
}
