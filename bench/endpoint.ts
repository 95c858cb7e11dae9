// How fast is the built-in endpoint, next to the scorer it wraps? Throughput and latency of N
// concurrent single-text clients (1, 16, 64) against the real endpoint on loopback, serving a
// model of the demo's size built by the real train.py and logging into a real registry, beside
// the ONNX scorer's own throughput at batch 1 and batch 32, measured in the same run. Also
// checks that every answered prediction was logged, and says how much CPU the clients used (they
// run on the same cores as the endpoint).
//
//   npx tsx bench/endpoint.ts [--clients 1,16,64] [--seconds 5] [--modes threads,event-loop,unbatched]
//                             [--client node|raw] [--texts wisesight|synthetic]
//                             [--log pglite|postgres|memory] [--model demo|tiny|DIR]
//
// Modes: "threads" is the endpoint as the worker runs it by default (DEFAULT_ENDPOINT_LIMITS:
// micro-batches of up to 32 texts, no wait; one copy of the model per core, each in a worker
// thread on one core, scorer-instances.ts); "wait-2ms" and "wait-5ms" are "threads" waiting that
// long for company while requests come together; "event-loop" scores one copy on the event loop
// (endpoint.scoring: event-loop); "unbatched" is "threads" with maxBatchTexts 1: one request per predict;
// "after-answer" is "threads" answering once scored and logging right behind (endpoint.predictionLog).
// --client: "node" (node:http clients) or "raw" (a minimal HTTP client, as a load generator).
// --texts: the Wisesight valid split's texts (real lengths: median 41 characters, a tenth over
// 200), or the integration tests' short synthetic sentences, which the scorer reads so fast that
// the HTTP path alone outweighs it.
// --log postgres: DATABASE_URL, else MLC_TEST_DATABASE_URL (rows stay, under bench-* models).
// --model: "demo" (the demo spec's architecture, built by endpoint-model.ts), "tiny" (the
// integration tests' smaller model) or a model folder.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { PredictionRecord, Registry } from '../adapters/db/port';
import { openRegistry } from '../adapters/db/open';
import type { PredictionLogging } from '../adapters/endpoint/micro-batcher';
import { DEFAULT_ENDPOINT_LIMITS, startEndpoint, type EndpointLimitsInput } from '../adapters/endpoint/server';
import { scorerInstances } from '../adapters/endpoint/scorer-instances';
import { loadScorerInThread } from '../adapters/endpoint/scorer-thread';
import { loadScorer } from '../adapters/scoring/onnx-scorer';
import type { LoadScorer } from '../adapters/scoring/port';
import { REPO_ROOT, tinyDataset, tinyModel } from '../test/integration/helpers/tiny-model';
import type { ClientKind } from './endpoint-clients';
import { runClientsProcess, scorerThroughput } from './endpoint-measure';
import { demoSizedModel } from './endpoint-model';
import { printTable, type Row } from './endpoint-table';
import { loadConfig } from '../temporal.config';

const { values: args } = parseArgs({
  options: {
    clients: { type: 'string', default: '1,16,64' },
    seconds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    modes: { type: 'string', default: 'threads,event-loop,unbatched' },
    client: { type: 'string', default: 'node' },
    texts: { type: 'string', default: 'wisesight' },
    log: { type: 'string', default: 'pglite' },
    model: { type: 'string', default: 'demo' },
  },
});
const clientCounts = args.clients.split(',').map(Number);
const measureMs = Number(args.seconds) * 1000;
const warmupMs = Number(args.warmup) * 1000;
// As the worker configures it (endpoint.scoringThreads: one per core unless configured).
const copies = loadConfig().endpoint.scoringThreads;
const inThreads = scorerInstances(loadScorerInThread, copies);
const modes: Record<string, { limits: EndpointLimitsInput; load: LoadScorer; logging?: PredictionLogging }> = {
  threads: { limits: {}, load: inThreads },
  'after-answer': { limits: {}, load: inThreads, logging: 'after-answer' },
  'wait-2ms': { limits: { batching: { maxWaitMs: 2 } }, load: inThreads },
  'wait-5ms': { limits: { batching: { maxWaitMs: 5 } }, load: inThreads },
  'event-loop': { limits: {}, load: loadScorer },
  unbatched: { limits: { batching: { maxBatchTexts: 1 } }, load: inThreads },
};
const chosenModes = args.modes.split(',');
for (const m of chosenModes) if (!modes[m]) throw new Error(`unknown mode "${m}"; modes: ${Object.keys(modes).join(', ')}`);
if (!['pglite', 'postgres', 'memory'].includes(args.log)) throw new Error(`--log must be pglite, postgres or memory, not "${args.log}"`);
if (args.client !== 'node' && args.client !== 'raw') throw new Error(`--client must be node or raw, not "${args.client}"`);
if (args.texts !== 'synthetic' && args.texts !== 'wisesight') throw new Error(`--texts must be synthetic or wisesight, not "${args.texts}"`);
const clientKind: ClientKind = args.client;

async function benchTexts(): Promise<string[]> {
  if (args.texts === 'synthetic') return tinyDataset(512, 11).map((r) => r.text);
  const lines = (await readFile(join(REPO_ROOT, 'data/wisesight/valid.jsonl'), 'utf8')).trim().split('\n');
  return lines.map((l) => (JSON.parse(l) as { text: string }).text);
}

const percentile = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN);
const runTag = randomBytes(3).toString('hex'); // model names unique per bench run, for a shared PostgreSQL
let runs = 0;

async function measure(
  mode: string,
  clients: number,
  model: { dir: string; sha256: string },
  texts: string[],
  log: (records: PredictionRecord[]) => Promise<void>,
  count: (model: string) => Promise<number>,
): Promise<Row> {
  const name = `bench-${runTag}-${++runs}-${mode}-${clients}`; // its own rows, to count
  const keys = Array.from({ length: clients }, () => randomBytes(32).toString('hex'));
  const endpoint = await startEndpoint({
    host: '127.0.0.1',
    port: 0,
    apiKey: keys[0]!,
    additionalApiKeys: keys.slice(1),
    resolveDeployment: async (m) => (m === name ? { model: name, version: 1, modelDir: model.dir, sha256: model.sha256 } : null),
    loadScorer: modes[mode]!.load,
    logPredictions: log,
    addFeedback: async () => 0,
    onError: (e) => console.error(`endpoint error (${mode}, ${clients} clients):`, e),
    limits: modes[mode]!.limits,
    predictionLogging: modes[mode]!.logging ?? 'before-answer',
  });
  try {
    // Loads the model before the clock starts.
    const warm = await fetch(`${endpoint.url}/health?model=${name}`);
    if (warm.status !== 200) throw new Error(`the endpoint could not load the model: ${warm.status} ${await warm.text()}`);
    const { result, serverCores } = await runClientsProcess({ url: endpoint.url, model: name, keys, texts, warmupMs, measureMs, kind: clientKind });
    const ok = result.statuses['200'] ?? 0;
    const sorted = [...result.latencies].sort((a, b) => a - b);
    const refused = Object.entries(result.statuses).filter(([s]) => s !== '200');
    const stats = endpoint.batchStats()[0];
    return {
      mode,
      clients,
      textsPerS: ok / (measureMs / 1000), // one text per request
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      errors: [...refused.map(([s, n]) => `${n}×${s}`), ...(result.failed ? [`${result.failed}×conn (${result.firstFailure})`] : [])].join(' ') || '0',
      textsPerBatch: stats ? stats.texts / Math.max(1, stats.predictCalls) : NaN,
      serverCores,
      clientCores: result.cpuCores,
      // After-answer: what was answered is logged right behind; let the log catch up before counting.
      logged: (await endpoint.whenLogged(30_000), await count(name)),
      answered: result.answeredTexts,
    };
  } finally {
    await endpoint.close();
  }
}

async function main() {
  const built = args.model === 'demo' ? await demoSizedModel() : args.model === 'tiny' ? await tinyModel() : { dir: args.model };
  const sha256 = createHash('sha256')
    .update(await readFile(join(built.dir, 'model.onnx')))
    .digest('hex');
  const texts = await benchTexts();
  const databaseUrl = process.env.DATABASE_URL ?? process.env.MLC_TEST_DATABASE_URL;
  if (args.log === 'postgres' && !databaseUrl) throw new Error('--log postgres needs DATABASE_URL or MLC_TEST_DATABASE_URL');
  console.log(
    `bench/endpoint: model ${args.model} (${built.dir}); ${args.texts} texts; ${args.client} clients; logging to ${args.log}; ${measureMs / 1000} s per run after ${warmupMs / 1000} s warm-up`,
  );
  const { batching, rateLimit } = DEFAULT_ENDPOINT_LIMITS;
  console.log(
    `defaults: micro-batches of ≤${batching.maxBatchTexts} texts, ${batching.maxWaitMs} ms wait; rate limit ${rateLimit.max}/${rateLimit.windowMs / 1000} s per key (one key per client)`,
  );

  const b1 = await scorerThroughput(built.dir, texts, 1, 3000);
  const b32 = await scorerThroughput(built.dir, texts, 32, 3000);
  const copiesB32 = await scorerThroughput(built.dir, texts, 32, 3000, inThreads);
  const perText = (m: { textsPerS: number; cores: number }) => ((m.cores * 1e6) / m.textsPerS).toFixed(0);
  console.log(
    `scorer alone: batch 1 ${b1.textsPerS.toFixed(0)} texts/s (${b1.cores.toFixed(2)} cores busy, ${perText(b1)} µs/text), ` +
      `batch 32 ${b32.textsPerS.toFixed(0)} texts/s (${b32.cores.toFixed(2)} cores busy, ${perText(b32)} µs/text; ${(b32.textsPerS / b1.textsPerS).toFixed(2)}x)\n` +
      `its ${copies} copies in threads, one core each, at once: batch 32 ${copiesB32.textsPerS.toFixed(0)} texts/s (${copiesB32.cores.toFixed(2)} cores busy, ${perText(copiesB32)} µs/text)\n`,
  );

  const work = await mkdtemp(join(tmpdir(), 'mlc-bench-endpoint-'));
  let registry: Registry | null = null;
  const memory: PredictionRecord[] = [];
  try {
    if (args.log !== 'memory') registry = await openRegistry({ dataDir: work, ...(args.log === 'postgres' && { databaseUrl }) });
    const log = registry ? (r: PredictionRecord[]) => registry!.logPredictions(r) : async (r: PredictionRecord[]) => void memory.push(...r);
    const count = async (model: string) =>
      registry ? (await registry.predictionsSince(model, new Date(0).toISOString())).length : memory.filter((r) => r.model === model).length;

    const rows: Row[] = [];
    for (const mode of chosenModes) for (const clients of clientCounts) rows.push(await measure(mode, clients, { dir: built.dir, sha256 }, texts, log, count));
    printTable(rows, { b32: b32.textsPerS, copiesB32: copiesB32.textsPerS, copies });

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
