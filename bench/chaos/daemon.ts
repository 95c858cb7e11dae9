// A long-running process the chaos bench owns: spawned in a process group of its own with its
// output appended to a log file, so it can be killed (with everything it forked) without
// touching any other process on the machine, and restarted on the same settings.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';

export interface DaemonSpec {
  /** Short name for messages: "temporal", "postgres", "sshd". */
  name: string;
  command: string;
  args: string[];
  logFile: string;
  env?: NodeJS.ProcessEnv;
}

const live = new Set<ChildProcess>();
// If the bench itself dies, its daemons go with it: they hold ports and temp folders.
process.once('exit', () => live.forEach((c) => signalGroup(c, 'SIGKILL')));

export class Daemon {
  private child: ChildProcess | undefined;

  constructor(readonly spec: DaemonSpec) {}

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): void {
    if (this.running) throw new Error(`${this.spec.name} is already running (pid ${this.child!.pid})`);
    const log = openSync(this.spec.logFile, 'a');
    try {
      const child = spawn(this.spec.command, this.spec.args, {
        detached: true,
        stdio: ['ignore', log, log],
        env: this.spec.env ?? process.env,
      });
      live.add(child);
      child.once('exit', () => live.delete(child));
      this.child = child;
    } finally {
      closeSync(log);
    }
  }

  /**
   * Send `signal` to the process group and to the descendants that left it (sshd's sessions
   * call setsid) — only those `which` picks, when given — wait up to graceMs, then SIGKILL
   * what is left of them.
   */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 15_000, which: (pid: number) => boolean = () => true): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const family = descendants(child.pid!).filter(which);
    signalGroup(child, signal);
    for (const pid of family) signalPid(pid, signal);
    const timer = new Promise<'late'>((r) => setTimeout(() => r('late'), graceMs).unref());
    if ((await Promise.race([exited, timer])) === 'late') {
      signalGroup(child, 'SIGKILL');
      await exited;
    }
    for (const pid of family) signalPid(pid, 'SIGKILL');
  }

  /** The last lines of its log, for failure messages. */
  logTail(lines = 20): string {
    try {
      return readFileSync(this.spec.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }
}

/** Poll `check` until it returns true; fail naming `what` (and, if `owner` exits or time runs out, its log). */
export async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number, owner?: Daemon): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await Promise.resolve(check()).catch(() => false)) return Date.now() - started;
    if (owner && !owner.running) throw new Error(`waiting for ${what}: ${owner.spec.name} exited; last log lines:\n${owner.logTail()}`);
    if (Date.now() - started > timeoutMs) {
      throw new Error(`waiting for ${what}: not after ${Math.round(timeoutMs / 1000)} s${owner ? `; last log lines:\n${owner.logTail()}` : ''}`);
    }
    await sleep(250);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Every process below `pid`, from `ps` (children of children included). */
export function descendants(pid: number): number[] {
  const out = execFileSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' });
  const children = new Map<number, number[]>();
  for (const line of out.split('\n')) {
    const [p, pp] = line.trim().split(/\s+/).map(Number);
    if (!p || pp === undefined) continue;
    children.set(pp, [...(children.get(pp) ?? []), p]);
  }
  const found: number[] = [];
  const walk = (at: number) => {
    for (const c of children.get(at) ?? []) {
      found.push(c);
      walk(c);
    }
  };
  walk(pid);
  return found;
}

/** The process's command name (/proc/<pid>/comm); '' once it is gone. */
export function commandName(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid) signalPid(-child.pid, signal);
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}
