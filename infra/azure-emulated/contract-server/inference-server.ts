// One Azure ML inference server (azmlinfsrv, the same package Azure's images run) as a
// child process in its own process group, so stop() ends it and its gunicorn workers.
// "Ready" means its liveness route answers 200, as the platform's readiness probe checks.
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../../free-port';

export interface InferenceServerOptions {
  bin: string;
  entryScript: string;
  modelDir: string;
  cwd: string;
  env: Record<string, string>;
  readyTimeoutMs: number;
  onOutput: (text: string) => void;
}

export interface InferenceServer {
  port: number;
  pid: number;
  /** Resolves with the exit code (or signal) when the process ends. */
  exited: Promise<string>;
  isRunning(): boolean;
  stop(): Promise<void>;
}

export class InferenceServerStartError extends Error {
  override name = 'InferenceServerStartError';
}

export async function startInferenceServer(options: InferenceServerOptions): Promise<InferenceServer> {
  const port = await freePort();
  let child: ChildProcess;
  try {
    child = spawn(options.bin, ['--entry_script', options.entryScript, '--model_dir', options.modelDir, '--port', String(port)], {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    throw new InferenceServerStartError(`could not run ${options.bin}: ${(err as Error).message}`);
  }
  child.stdout!.on('data', (c: Buffer) => options.onOutput(c.toString()));
  child.stderr!.on('data', (c: Buffer) => options.onOutput(c.toString()));
  let running = true;
  const exited = new Promise<string>((resolve) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      running = false;
      const why =
        err.code === 'ENOENT' ? `${options.bin} does not exist; create .venv-serving (scripts/setup.sh) or point MLC_AZMLINFSRV at an azmlinfsrv` : err.message;
      options.onOutput(`${why}\n`);
      resolve(`could not start: ${why}`);
    });
    child.once('exit', (code, signal) => {
      running = false;
      resolve(signal ? `signal ${signal}` : `exit code ${code}`);
    });
  });

  const stop = async () => {
    if (!running || child.pid === undefined) return;
    const group = -child.pid;
    try {
      process.kill(group, 'SIGTERM');
    } catch {
      return;
    }
    const killed = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5000))]);
    if (!killed) {
      try {
        process.kill(group, 'SIGKILL');
      } catch {
        /* already gone */
      }
      await exited;
    }
  };

  const deadline = Date.now() + options.readyTimeoutMs;
  while (true) {
    if (!running) throw new InferenceServerStartError(`the inference server exited before it was ready (${await exited})`);
    if (await answers(port)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new InferenceServerStartError(`the inference server did not answer its liveness route within ${options.readyTimeoutMs / 1000}s`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { port, pid: child.pid!, exited, isRunning: () => running, stop };
}

async function answers(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}
