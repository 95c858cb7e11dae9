// A SLURM controller in memory, answering the exact commands the adapter sends, in SLURM
// 22.05's real output formats. For unit tests and the polling benchmark's offline mode.
import type { CommandRunner, ExecOptions, ExecResult } from '../../adapters/slurm/ssh';

export interface FakeJob {
  id: string;
  state: string;
  exit?: number;
  signal?: number;
  elapsed?: string;
  restarts?: number;
  reason?: string;
  name?: string;
  arrayJobId?: string;
  arrayTaskId?: string;
  rawId?: string;
  /** Aged out of the controller (MinJobAge): squeue and scontrol no longer know it. */
  gone?: boolean;
}

export class FakeCluster implements CommandRunner {
  readonly jobs = new Map<string, FakeJob>();
  readonly log: string[] = [];
  accounting = false;
  nextId = 100;
  /** Throw this (once per call) instead of answering, to simulate SSH trouble. */
  failWith: (() => Error) | undefined;
  files = new Map<string, string>();
  lastStdin: string | undefined;

  add(job: FakeJob): FakeJob {
    this.jobs.set(job.id, job);
    return job;
  }

  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    this.log.push(command);
    if (this.failWith) throw this.failWith();
    const word = command.split(' ', 1)[0];
    if (word === 'squeue') return this.squeue(command);
    if (word === 'sacct') return this.sacct(command);
    if (word === 'scontrol') return this.scontrol(command);
    if (word === 'scancel') return ok('');
    if (word === 'cat') {
      const file = /^cat -- '?([^']*)'?$/.exec(command)?.[1] ?? '';
      const text = this.files.get(file);
      return text === undefined ? { stdout: '', stderr: `cat: ${file}: No such file or directory\n`, code: 1 } : ok(text);
    }
    if (command.startsWith('sh -c') && command.includes('sbatch --parsable')) {
      this.lastStdin = options.stdin;
      const name = /--job-name=(\S+)/.exec(options.stdin ?? '')?.[1];
      const id = String(this.nextId++);
      this.add({ id, state: 'PENDING', name, reason: 'Priority' });
      return ok(`${id}\n`);
    }
    return { stdout: '', stderr: `fake cluster: unknown command ${word}\n`, code: 127 };
  }

  async close(): Promise<void> {}

  count(word: string): number {
    return this.log.filter((c) => c.startsWith(`${word} `)).length;
  }

  private squeue(command: string): ExecResult {
    const list = /--jobs=([\d_,]+)/.exec(command)?.[1]?.split(',');
    const ids = list && new Set(list);
    const name = /--name=([^' ]+)/.exec(command)?.[1];
    const live = [...this.jobs.values()].filter((j) => !j.gone);
    const picked = ids
      ? live.filter((j) => ids.has(j.id) || (j.arrayJobId !== undefined && ids.has(j.arrayJobId)) || ids.has(j.rawId ?? ''))
      : live.filter((j) => j.name === name);
    if (ids && ids.size === 1 && picked.length === 0) {
      return { stdout: '', stderr: 'slurm_load_jobs error: Invalid job id specified\n', code: 1 };
    }
    return ok(picked.map(squeueLine).join('\n') + (picked.length ? '\n' : ''));
  }

  private sacct(command: string): ExecResult {
    if (!this.accounting) return { stdout: '', stderr: 'Slurm accounting storage is disabled\n', code: 1 };
    const ids = /--jobs=([\d_,]+)/.exec(command)?.[1]?.split(',') ?? [];
    const picked = [...this.jobs.values()].filter((j) => ids.includes(j.id) || ids.includes(j.arrayJobId ?? ''));
    return ok(
      picked
        .map(
          (j) =>
            `${j.id}|${j.state}${j.state === 'CANCELLED' ? ' by 0' : ''}|${j.exit ?? 0}:${j.signal ?? 0}|${j.elapsed ?? '00:00:01'}|${j.name ?? 'job'}\n${j.id}.batch|${j.state}|0:0|00:00:01|batch\n`,
        )
        .join(''),
    );
  }

  private scontrol(command: string): ExecResult {
    const id = command.split(' ').pop()!;
    const j = this.jobs.get(id);
    if (!j || j.gone) return { stdout: '', stderr: 'slurm_load_jobs error: Invalid job id specified\n', code: 1 };
    return ok(
      `JobId=${j.id} JobName=${j.name ?? 'job'} UserId=root(0) JobState=${j.state} Reason=${j.reason ?? 'None'} Requeue=1 Restarts=${j.restarts ?? 0} ExitCode=${j.exit ?? 0}:${j.signal ?? 0} RunTime=${j.elapsed ?? '00:00:01'} Comment=(null)\n`,
    );
  }
}

function squeueLine(j: FakeJob): string {
  const status = ((j.exit ?? 0) << 8) | (j.signal ?? 0);
  const id = j.arrayJobId ? `${j.arrayJobId}_${j.arrayTaskId}` : j.id;
  return [
    id,
    j.rawId ?? j.id,
    j.arrayJobId ?? j.id,
    j.arrayTaskId ?? 'N/A',
    j.state,
    status,
    j.elapsed ?? '0:01',
    j.restarts ?? 0,
    j.reason ?? 'None',
    '(null)',
    j.name ?? 'job',
    '',
  ].join('|');
}

function ok(stdout: string): ExecResult {
  return { stdout, stderr: '', code: 0 };
}
