// ClusterExecutor without a scheduler: train.py as a detached child process of the worker,
// writing the same run folder (log: runDir/local-<pid>.out). A small sh wrapper records the
// exit code next to the log, so a restarted worker still learns how the job ended. Trials run
// one after another with SLURM_ARRAY_TASK_ID set, as an array task would see it.
// Not covered: time limits, memory limits, GPUs, concurrency of trials.
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { LocalClusterConfig } from '../../temporal.config';
import { InvalidJobRequestError } from './errors';
import type { ClusterExecutor, JobStatus, SubmitResult, TrainingJobRequest } from './port';
import { relativePath, trainArgv, validateKey } from './sbatch';
import { aggregate } from './status';
import { stateInfo } from './states';

interface JobFile {
  key: string;
  jobId?: string;
  pid?: number;
  runDir: string;
  trials?: number;
  startedAt: string;
}

// "$@" is train.py's argv: passed as arguments, never parsed by a shell.
const wrapper = [
  'd=$MLC_RUN_DIR',
  'if [ -n "${MLC_TRIALS:-}" ]; then',
  '  i=0; ok=0',
  '  while [ "$i" -lt "$MLC_TRIALS" ]; do',
  '    SLURM_ARRAY_TASK_ID=$i "$@"; c=$?',
  '    printf "%s\\n" "$c" > "$d/local-$$-task-$i.exit"',
  '    [ "$c" -eq 0 ] && ok=1',
  '    i=$((i + 1))',
  '  done',
  '  code=$((1 - ok))',
  'else',
  '  "$@"; code=$?',
  'fi',
  'printf "%s\\n" "$code" > "$d/local-$$.exit.tmp" && mv -f "$d/local-$$.exit.tmp" "$d/local-$$.exit"',
  'exit "$code"',
].join('\n');

export class LocalExecutor implements ClusterExecutor {
  private closed = false;

  constructor(readonly config: LocalClusterConfig) {}

  async submit(request: TrainingJobRequest): Promise<SubmitResult> {
    validateKey(request.key);
    const runDir = this.runDir(request.runDir);
    await mkdir(runDir, { recursive: true });
    const jobFile = path.join(runDir, 'job.json');
    const previous = await readJson<JobFile>(jobFile);
    if (previous?.key === request.key) {
      if (previous.jobId) return { jobId: previous.jobId, reused: true };
      // We died between "starting" and the pid: the process may be running anyway.
      const pid = await findProcessWithKey(request.key);
      if (pid) {
        await this.record(jobFile, { ...previous, pid, jobId: `local-${pid}` });
        return { jobId: `local-${pid}`, reused: true };
      }
    }
    await writeFile(jobFile, JSON.stringify({ key: request.key, runDir: request.runDir, startedAt: new Date().toISOString() } satisfies JobFile));

    const argv = trainArgv(request, this.config);
    const startingLog = path.join(runDir, `local-starting-${process.pid}-${Date.now()}.out`);
    const fd = openSync(startingLog, 'a');
    let pid: number | undefined;
    try {
      const child = spawn('/bin/sh', ['-c', wrapper, 'mlc-local', ...argv], {
        cwd: this.config.codeDir,
        detached: true,
        stdio: ['ignore', fd, fd],
        env: {
          ...process.env,
          MLC_JOB_KEY: request.key,
          MLC_RUN_DIR: runDir,
          ...(request.trials ? { MLC_TRIALS: String(request.trials.count) } : {}),
        },
      });
      pid = child.pid;
      if (!pid) throw new Error(`could not start ${argv[0]}`);
      child.unref();
      child.on('error', () => undefined);
    } finally {
      closeSync(fd);
    }
    const jobId = `local-${pid}`;
    await rename(startingLog, path.join(runDir, `${jobId}.out`));
    await this.record(jobFile, { key: request.key, runDir: request.runDir, pid, jobId, trials: request.trials?.count, startedAt: new Date().toISOString() });
    return { jobId, reused: false };
  }

  async status(jobIds: string[]): Promise<Map<string, JobStatus>> {
    const out = new Map<string, JobStatus>();
    for (const id of jobIds) out.set(id, await this.statusOf(id));
    return out;
  }

  async waitFor(jobId: string, options: { onUpdate?: (status: JobStatus) => void; signal?: AbortSignal } = {}): Promise<JobStatus> {
    let last = '';
    for (;;) {
      if (options.signal?.aborted) throw options.signal.reason ?? new Error('aborted');
      if (this.closed) throw new Error('the local executor was closed');
      const s = await this.statusOf(jobId);
      const key = `${s.state}|${s.reason ?? ''}`;
      if (key !== last) {
        last = key;
        options.onUpdate?.(s);
      }
      if (s.phase === 'succeeded' || s.phase === 'failed') return s;
      await sleep(this.config.pollIntervalMs, options.signal);
    }
  }

  async cancel(jobId: string): Promise<void> {
    const pid = pidOf(jobId);
    const job = await this.jobOf(pid);
    if (!job || !(await isOurs(pid, job.key))) return; // unknown or finished: not an error
    await writeFile(path.join(this.runDir(job.runDir), `${jobId}.cancelled`), new Date().toISOString());
    try {
      process.kill(-pid, 'SIGTERM'); // the whole process group: wrapper and train.py
    } catch {
      // already gone
    }
  }

  async logTail(runDir: string, jobId: string, lines = 100): Promise<string> {
    pidOf(jobId);
    const text = await readFile(path.join(this.runDir(runDir), `${jobId}.out`), 'utf8').catch(() => '');
    const all = text.split('\n');
    if (all[all.length - 1] === '') all.pop();
    return all.slice(-Math.max(1, lines)).join('\n') + (all.length ? '\n' : '');
  }

  async close(): Promise<void> {
    this.closed = true; // children keep running: they are jobs, not part of the worker
  }

  private runDir(rel: string): string {
    relativePath('runDir', rel);
    return path.join(this.config.artifactsRoot, rel);
  }

  private async record(jobFile: string, job: JobFile): Promise<void> {
    await writeFile(`${jobFile}.tmp`, JSON.stringify(job, null, 2));
    await rename(`${jobFile}.tmp`, jobFile);
    // pid → run folder, so status() works for a worker that did not submit the job.
    const index = path.join(this.config.artifactsRoot, '.mlc-local-jobs');
    await mkdir(index, { recursive: true });
    await writeFile(path.join(index, `${job.jobId}.json`), JSON.stringify(job));
  }

  private async jobOf(pid: number): Promise<JobFile | undefined> {
    return readJson<JobFile>(path.join(this.config.artifactsRoot, '.mlc-local-jobs', `local-${pid}.json`));
  }

  private async statusOf(jobId: string): Promise<JobStatus> {
    const pid = pidOf(jobId);
    const job = await this.jobOf(pid);
    if (!job) return fromState(jobId, 'UNKNOWN');
    const dir = this.runDir(job.runDir);
    const readExit = () => readFile(path.join(dir, `${jobId}.exit`), 'utf8').catch(() => undefined);
    let exit = await readExit();
    const alive = exit === undefined && (await isOurs(pid, job.key));
    // It may have written its exit code and ended between the two looks: look again.
    if (exit === undefined && !alive) exit = await readExit();
    const cancelled = await readFile(path.join(dir, `${jobId}.cancelled`), 'utf8').then(
      () => true,
      () => false,
    );
    if (job.trials) return this.trialStatus(jobId, pid, dir, job.trials, alive, cancelled);
    if (alive) return fromState(jobId, 'RUNNING');
    if (cancelled) return fromState(jobId, 'CANCELLED');
    if (exit === undefined)
      return {
        ...fromState(jobId, 'FAILED'),
        reason: 'the process ended without recording an exit code (killed by the OOM killer, a reboot or kill -9?): read the log',
      };
    const code = Number(exit.trim());
    return fromState(jobId, code === 0 ? 'COMPLETED' : 'FAILED', code > 128 ? { exitCode: code, signal: code - 128 } : { exitCode: code });
  }

  private async trialStatus(jobId: string, pid: number, dir: string, count: number, alive: boolean, cancelled: boolean): Promise<JobStatus> {
    const names = new Set(await readdir(dir).catch(() => [] as string[]));
    const tasks: Record<number, JobStatus> = {};
    let runningAssigned = false;
    for (let i = 0; i < count; i++) {
      const f = `local-${pid}-task-${i}.exit`;
      const taskId = `${jobId}_${i}`;
      if (names.has(f)) {
        const code = Number((await readFile(path.join(dir, f), 'utf8')).trim());
        tasks[i] = fromState(taskId, code === 0 ? 'COMPLETED' : 'FAILED', { exitCode: code });
      } else if (alive && !runningAssigned) {
        runningAssigned = true;
        tasks[i] = fromState(taskId, 'RUNNING');
      } else {
        tasks[i] = fromState(taskId, alive ? 'PENDING' : cancelled ? 'CANCELLED' : 'FAILED');
      }
    }
    return aggregate(jobId, tasks);
  }
}

function fromState(jobId: string, state: string, exit: { exitCode?: number; signal?: number } = {}): JobStatus {
  const info = stateInfo(state, exit);
  return {
    jobId,
    state,
    phase: info.phase,
    retryable: info.retryable,
    ...(info.phase === 'succeeded' || info.phase === 'failed' ? exit : {}),
    ...(info.hint ? { reason: info.hint } : {}),
  };
}

function pidOf(jobId: string): number {
  const m = /^local-(\d+)$/.exec(jobId);
  if (!m) throw new InvalidJobRequestError('jobId', jobId, 'a local job id like "local-1234" (SLURM ids belong to the slurm executor)');
  return Number(m[1]);
}

/** Alive and really ours: a recycled pid belongs to some other process without our key. */
async function isOurs(pid: number, key: string): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const env = await readFile(`/proc/${pid}/environ`).catch(() => undefined);
  if (!env) return process.platform !== 'linux'; // no /proc to ask: trust the pid
  return env.includes(Buffer.from(`\0MLC_JOB_KEY=${key}\0`)) || env.subarray(0, key.length + 13).equals(Buffer.from(`MLC_JOB_KEY=${key}\0`));
}

async function findProcessWithKey(key: string): Promise<number | undefined> {
  const entries = await readdir('/proc').catch(() => [] as string[]);
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    // The wrapper leads its process group (detached); train.py under it shares the key.
    const stat = await readFile(`/proc/${e}/stat`, 'utf8').catch(() => '');
    const pgrp = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2];
    if (pgrp === e && (await isOurs(Number(e), key))) return Number(e);
  }
  return undefined;
}

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });
}
