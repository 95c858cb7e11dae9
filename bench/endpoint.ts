// How fast is the built-in endpoint, next to the scorer it wraps? Throughput and latency of N
// concurrent single-text clients (1, 16, 64) against the real endpoint on loopback, serving a
// model of the demo's size built by the real train.py and logging into an embedded registry
// (PGlite), beside the ONNX scorer's own throughput at batch 1 and batch 32, measured in the
// same run. Also checks that every answered prediction was logged.
//
//   npx tsx bench/endpoint.ts [--clients 1,16,64] [--seconds 5] [--modes batched,no-wait,unbatched]
//                             [--log pglite|memory] [--model demo|tiny|DIR]
//
// Modes: "batched" is the endpoint's defaults (DEFAULT_ENDPOINT_LIMITS: micro-batches of up to 32
// texts, 2 ms wait while requests come together); "no-wait" and "wait-5ms" change that wait;
// "unbatched" is the same endpoint with maxBatchTexts 1: one request per predict and log call.
// --model: "demo" (the demo spec's architecture, built by endpoint-model.ts), "tiny" (the
// integration tests' smaller model) or a model folder.
import { fork } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { PredictionRecord, Registry } from '../adapters/db/port';
import { openRegistry } from '../adapters/db/open';
import { DEFAULT_ENDPOINT_LIMITS, startEndpoint, type EndpointLimitsInput } from '../adapters/endpoint/server';
import { loadScorer } from '../adapters/scoring/onnx-scorer';
import { tinyDataset, tinyModel } from '../test/integration/helpers/tiny-model';
import { demoSizedModel } from './endpoint-model';
import type { ClientsJob, ClientsResult } from './endpoint-clients';

const { values: args } = parseArgs({
  options: {
    clients: { type: 'string', default: '1,16,64' },
    seconds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    modes: { type: 'string', default: 'batched,no-wait,unbatched' },
    log: { type: 'string', default: 'pglite' },
    model: { type: 'string', default: 'demo' },
  },
});
const clientCounts = args.clients.split(',').map(Number);
const measureMs = Number(args.seconds) * 1000;
const warmupMs = Number(args.warmup) * 1000;
const modes: Record<string, EndpointLimitsInput> = {
  batched: {},
  'no-wait': { batching: { maxWaitMs: 0 } },
  'wait-5ms': { batching: { maxWaitMs: 5 } },
  unbatched: { batching: { maxBatchTexts: 1 } },
};
const chosenModes = args.modes.split(',');
for (const m of chosenModes) if (!modes[m]) throw new Error(`unknown mode "${m}"; modes: ${Object.keys(modes).join(', ')}`);
if (args.log !== 'pglite' && args.log !== 'memory') throw new Error(`--log must be pglite or memory, not "${args.log}"`);

const texts = tinyDataset(512, 11).map((r) => r.text);
const percentile = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN);

/** The scorer alone, one predict after another, on batches of `size` texts: texts per second. */
async function scorerThroughput(modelDir: string, size: number, ms: number): Promise<number> {
  const scorer = await loadScorer(modelDir);
  try {
    const batch = (i: number) => Array.from({ length: size }, (_, k) => texts[(i * size + k) % texts.length]!);
    for (let i = 0; i < 5; i++) await scorer.predict(batch(i)); // warm up onnxruntime
    let done = 0;
    const start = performance.now();
    for (let i = 0; performance.now() - start < ms; i++) done += (await scorer.predict(batch(i))).length;
    return done / ((performance.now() - start) / 1000);
  } finally {
    await scorer.close();
  }
}

function runClientsProcess(job: ClientsJob): Promise<ClientsResult> {
  const child = fork(fileURLToPath(new URL('./endpoint-clients.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'] });
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve(m as ClientsResult));
    child.once('error', reject);
    child.once('exit', (code) => code !== 0 && reject(new Error(`the clients process exited ${code}`)));
    child.send(job);
  });
}

interface Row {
  mode: string;
  clients: number;
  reqPerS: number;
  textsPerS: number;
  p50: number;
  p99: number;
  errors: string;
  textsPerBatch: number;
  logged: number;
  answered: number;
}

let runs = 0;

async function measure(
  mode: string,
  clients: number,
  modelDir: string,
  sha256: string,
  log: (records: PredictionRecord[]) => Promise<void>,
  count: (model: string) => Promise<number>,
): Promise<Row> {
  const model = `bench-${++runs}-${mode}-${clients}`; // its own rows, to count
  const keys = Array.from({ length: clients }, () => randomBytes(32).toString('hex'));
  const endpoint = await startEndpoint({
    host: '127.0.0.1',
    port: 0,
    apiKey: keys[0]!,
    additionalApiKeys: keys.slice(1),
    resolveDeployment: async (name) => (name === model ? { model, version: 1, modelDir, sha256 } : null),
    loadScorer,
    logPredictions: log,
    addFeedback: async () => 0,
    onError: (e) => console.error(`endpoint error (${mode}, ${clients} clients):`, e),
    limits: modes[mode],
  });
  try {
    // Loads the model before the clock starts.
    const warm = await fetch(`${endpoint.url}/health?model=${model}`);
    if (warm.status !== 200) throw new Error(`the endpoint could not load the model: ${warm.status} ${await warm.text()}`);
    const result = await runClientsProcess({ url: endpoint.url, model, keys, texts, warmupMs, measureMs });
    const ok = result.statuses['200'] ?? 0;
    const sorted = [...result.latencies].sort((a, b) => a - b);
    const refused = Object.entries(result.statuses).filter(([s]) => s !== '200');
    const stats = endpoint.batchStats()[0];
    return {
      mode,
      clients,
      reqPerS: ok / (measureMs / 1000),
      textsPerS: ok / (measureMs / 1000), // one text per request
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      errors: [...refused.map(([s, n]) => `${n}×${s}`), ...(result.failed ? [`${result.failed}×conn (${result.firstFailure})`] : [])].join(' ') || '0',
      textsPerBatch: stats ? stats.texts / Math.max(1, stats.predictCalls) : NaN,
      logged: await count(model),
      answered: result.answeredTexts,
    };
  } finally {
    await endpoint.close();
  }
}

async function main() {
  const tiny = args.model === 'demo' ? await demoSizedModel() : args.model === 'tiny' ? await tinyModel() : { dir: args.model };
  const sha256 = createHash('sha256')
    .update(await readFile(join(tiny.dir, 'model.onnx')))
    .digest('hex');
  console.log(`bench/endpoint: model ${args.model} (${tiny.dir}); logging to ${args.log}; ${measureMs / 1000} s per run after ${warmupMs / 1000} s warm-up`);
  const { batching, rateLimit } = DEFAULT_ENDPOINT_LIMITS;
  console.log(
    `defaults: micro-batches of ≤${batching.maxBatchTexts} texts, ${batching.maxWaitMs} ms wait; rate limit ${rateLimit.max}/${rateLimit.windowMs / 1000} s per key (one key per client)`,
  );

  const b1 = await scorerThroughput(tiny.dir, 1, 3000);
  const b32 = await scorerThroughput(tiny.dir, 32, 3000);
  console.log(`scorer alone: batch 1 ${b1.toFixed(0)} texts/s, batch 32 ${b32.toFixed(0)} texts/s (${(b32 / b1).toFixed(2)}x)\n`);

  const work = await mkdtemp(join(tmpdir(), 'mlc-bench-endpoint-'));
  let registry: Registry | null = null;
  const memory: PredictionRecord[] = [];
  try {
    if (args.log === 'pglite') registry = await openRegistry({ dataDir: work });
    const log = registry ? (r: PredictionRecord[]) => registry!.logPredictions(r) : async (r: PredictionRecord[]) => void memory.push(...r);
    const count = async (model: string) =>
      registry ? (await registry.predictionsSince(model, new Date(0).toISOString())).length : memory.filter((r) => r.model === model).length;

    const rows: Row[] = [];
    for (const mode of chosenModes) for (const clients of clientCounts) rows.push(await measure(mode, clients, tiny.dir, sha256, log, count));

    const header = ['mode', 'clients', 'req/s', 'texts/s', 'p50 ms', 'p99 ms', 'errors', 'texts/predict', 'vs scorer b1', 'vs scorer b32', 'logged = answered'];
    const table = rows.map((r) => [
      r.mode,
      String(r.clients),
      r.reqPerS.toFixed(0),
      r.textsPerS.toFixed(0),
      r.p50.toFixed(1),
      r.p99.toFixed(1),
      r.errors,
      r.textsPerBatch.toFixed(1),
      `${(r.textsPerS / b1).toFixed(2)}x`,
      `${((r.textsPerS / b32) * 100).toFixed(0)}%`,
      r.logged === r.answered
        ? `yes (${r.logged})`
        : r.logged > r.answered
          ? `${r.logged - r.answered} logged unanswered`
          : `NO: ${r.answered - r.logged} unlogged`,
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...table.map((t) => t[i]!.length)));
    for (const line of [header, ...table]) console.log(line.map((c, i) => (i < 1 || i === 6 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));

    const target = rows.find((r) => r.mode === 'batched' && r.clients === 16);
    if (target)
      console.log(
        `\ntarget (16 single-text clients, batched): ${((target.textsPerS / b32) * 100).toFixed(0)}% of the scorer's batch-32 throughput (want ≥ 80%), p99 ${target.p99.toFixed(0)} ms (want ≤ 100 ms)`,
      );
    const unlogged = rows.filter((r) => r.logged < r.answered);
    if (unlogged.length) {
      console.error(`answered predictions that were not logged: ${unlogged.map((r) => `${r.mode}/${r.clients}`).join(', ')}`);
      process.exitCode = 1;
    }
  } finally {
    await registry?.close();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
