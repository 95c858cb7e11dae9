// Child processes for end-to-end tests that run mlc as users do: worker roles and the CLI,
// each its own process. Workers start in their own process group so that stopping one also
// stops what it spawned (a local-process training job); every one is tracked so a failing
// test still stops them all.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from '../../temporal.config';

export interface Worker {
  role: string;
  child: ChildProcess;
  /** Everything it printed so far, stdout and stderr interleaved: for failure messages. */
  output(): string;
}

const started = new Set<ChildProcess>();

/** Start `workers/main.ts <role>` and resolve once it prints "mlc worker ready". */
export function startWorker(role: string, env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<Worker> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'workers/main.ts'), role], {
    cwd: repoRoot,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.add(child);
  let out = '';
  const worker: Worker = { role, child, output: () => out };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker ${role} not ready after ${timeoutMs / 1000}s:\n${tail(out)}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('mlc worker ready')) {
        clearTimeout(timer);
        resolve(worker);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`worker ${role} exited (${code ?? signal}) before it was ready:\n${tail(out)}`));
    });
  });
}

/** SIGTERM every process group started here, then SIGKILL what is still alive after a grace period. */
export async function stopAll(graceMs = 5_000): Promise<void> {
  const alive = [...started].filter((c) => c.exitCode === null && c.signalCode === null);
  const exited = alive.map((c) => new Promise<void>((r) => c.once('exit', () => r())));
  for (const c of alive) signalGroup(c, 'SIGTERM');
  await Promise.race([Promise.all(exited), new Promise((r) => setTimeout(r, graceMs))]);
  for (const c of alive) signalGroup(c, 'SIGKILL');
  started.clear();
}

// If the test runner itself goes away, take the workers with it.
process.once('exit', () => started.forEach((c) => signalGroup(c, 'SIGKILL')));

function signalGroup(child: ChildProcess, signal: NodeJS.Signals) {
  if (!child.pid) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `mlc ...args` as its own process: node --import tsx cli/main.ts. */
export function mlc(env: NodeJS.ProcessEnv, ...args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', path.join(repoRoot, 'cli/main.ts'), ...args],
      { cwd: repoRoot, env: { ...env, NO_COLOR: '1' }, timeout: 120_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

export { freePort } from '../../infra/free-port';

export const tail = (text: string, lines = 40) => text.split('\n').slice(-lines).join('\n');
