// The two measurements bench/endpoint.ts puts side by side: the scorer alone (texts per second
// and the cores it kept busy) and the clients process against a running endpoint (their result,
// and the cores the endpoint's process used in the same measured window).
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadScorer } from '../adapters/scoring/onnx-scorer';
import type { LoadScorer } from '../adapters/scoring/port';
import type { ClientsJob, ClientsResult } from './endpoint-clients';

/** Cores busy since `from` (1 = one core all the time), for this whole process: every thread. */
function coresSince(from: { cpu: NodeJS.CpuUsage; at: number }): number {
  const used = process.cpuUsage(from.cpu);
  return (used.user + used.system) / 1000 / (performance.now() - from.at);
}

const now = () => ({ cpu: process.cpuUsage(), at: performance.now() });

/**
 * The scorer alone on batches of `size` texts: one predict after another, or with a scorer that
 * runs several at once (Scorer.concurrency), that many loops side by side.
 */
export async function scorerThroughput(
  modelDir: string,
  texts: string[],
  size: number,
  ms: number,
  load: LoadScorer = loadScorer,
): Promise<{ textsPerS: number; cores: number }> {
  const scorer = await load(modelDir);
  try {
    let next = 0;
    const batch = () => Array.from({ length: size }, () => texts[next++ % texts.length]!);
    for (let i = 0; i < 5; i++) await Promise.all(Array.from({ length: scorer.concurrency ?? 1 }, () => scorer.predict(batch()))); // warm up onnxruntime
    let done = 0;
    const start = now();
    const loop = async () => {
      while (performance.now() - start.at < ms) done += (await scorer.predict(batch())).length;
    };
    await Promise.all(Array.from({ length: scorer.concurrency ?? 1 }, loop));
    const cores = coresSince(start);
    return { textsPerS: done / ((performance.now() - start.at) / 1000), cores };
  } finally {
    await scorer.close();
  }
}

/** Messages from endpoint-clients.ts: the measured window begins, then the result. */
export type ClientsMessage = { phase: 'measuring' } | { phase: 'done'; result: ClientsResult };

export function runClientsProcess(job: ClientsJob): Promise<{ result: ClientsResult; serverCores: number }> {
  const child = fork(fileURLToPath(new URL('./endpoint-clients.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'] });
  let window: ReturnType<typeof now> | null = null;
  return new Promise((resolve, reject) => {
    child.on('message', (m: ClientsMessage) => {
      if (m.phase === 'measuring') window = now();
      else resolve({ result: m.result, serverCores: window ? coresSince(window) : NaN });
    });
    child.once('error', reject);
    child.once('exit', (code) => code !== 0 && reject(new Error(`the clients process exited ${code}`)));
    child.send(job);
  });
}
