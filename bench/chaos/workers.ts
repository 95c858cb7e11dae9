// The worker roles as separate processes on PostgreSQL (as test/e2e/separate-processes.test.ts
// runs them, with its helpers): one process per role, each in a process group of its own so a
// SIGKILL takes the role down at once, with whatever it was doing, and nothing else.
import { appendFileSync } from 'node:fs';
import { startWorker, stopAll, tail, type Worker } from '../../test/e2e/process-helpers';
import type { Role } from '../../workers/runtime';

export const roles: Role[] = ['control', 'scoring', 'endpoint'];

export class WorkerFleet {
  private readonly current = new Map<Role, Worker>();
  /** Every process started, killed ones too: their output explains a failure. */
  private readonly history: Worker[] = [];

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    /** Each process's output is appended here too, for reading after the run. */
    private readonly logFile: string,
    // Generous: the control role bundles the workflow code at start, on a shared 2-core machine.
    private readonly readyTimeoutMs = 240_000,
  ) {}

  async startAll(): Promise<void> {
    // Together: they race to migrate the fresh database, which adapters/db/open.ts serialises.
    await Promise.all(roles.map((role) => this.start(role)));
  }

  /**
   * Start the role and wait until it is ready; a start that fails (a shared machine's
   * node_modules being reinstalled under it, say) is tried again before the bench gives up.
   */
  async start(role: Role, attempts = 3): Promise<Worker> {
    for (let attempt = 1; ; attempt++) {
      try {
        const worker = await startWorker(role, this.env, this.readyTimeoutMs);
        this.record(worker);
        return worker;
      } catch (err) {
        appendFileSync(this.logFile, `[${role}] start ${attempt} of ${attempts} failed: ${(err as Error).message}\n`);
        if (attempt >= attempts) throw err;
        await new Promise((r) => setTimeout(r, 5_000 * attempt));
      }
    }
  }

  private record(worker: Worker): void {
    const prefix = (text: string) => text.replace(/^(?=.)/gm, `[${worker.role} ${worker.child.pid}] `);
    appendFileSync(this.logFile, prefix(worker.output()));
    worker.child.stdout?.on('data', (chunk: Buffer) => appendFileSync(this.logFile, prefix(chunk.toString())));
    worker.child.stderr?.on('data', (chunk: Buffer) => appendFileSync(this.logFile, prefix(chunk.toString())));
    this.current.set(worker.role as Role, worker);
    this.history.push(worker);
  }

  /** SIGKILL the role's process group: no shutdown, no heartbeats, activities in flight abandoned. */
  async kill(role: Role): Promise<void> {
    const worker = this.current.get(role);
    const pid = worker?.child.pid;
    if (!worker || !pid || worker.child.exitCode !== null || worker.child.signalCode !== null) return;
    const exited = new Promise<void>((r) => worker.child.once('exit', () => r()));
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
    await exited;
  }

  /** Roles whose process has exited without being killed here: a crash the bench did not cause. */
  crashed(): { role: Role; why: string }[] {
    return [...this.current.values()]
      .filter((w) => w.child.exitCode !== null && w.child.signalCode !== 'SIGKILL')
      .map((w) => ({ role: w.role as Role, why: `${w.role} exited ${w.child.exitCode}:\n${tail(w.output(), 15)}` }));
  }

  /** What each process printed last, for failure messages. */
  logs(lines = 15): string {
    return this.history
      .map((w) => `--- worker ${w.role} (pid ${w.child.pid}, ${w.child.signalCode ?? w.child.exitCode ?? 'running'}):\n${tail(w.output(), lines)}`)
      .join('\n');
  }

  stop(): Promise<void> {
    return stopAll();
  }
}
