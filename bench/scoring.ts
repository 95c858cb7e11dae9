// The scoring path, side by side: the product's Node scorer (transformers.js tokenizer +
// onnxruntime-node, adapters/scoring) against Python onnxruntime with `tokenizers` and against
// PyTorch eager (bench/scoring_peer.py), on the same model and the same texts, in one run, at
// batch 1 and 32. Prints texts per second, p50/p99 latency of one call and the share of time
// outside the model call, and the ratios. Targets (issue 10): Node ≥ 1.0× Python ORT, ≥ 3× eager.
//
//   npx tsx bench/scoring.ts [--model DIR] [--texts N]
// DIR: a run folder (model.onnx, model.pt, tokenizer.json, labels.json); default: the newest
// demo run under .data/artifacts, else the integration tests' tiny model (trained on first use).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import * as ort from 'onnxruntime-node';
import { loadScorer } from '../adapters/scoring/onnx-scorer';
import { normalizeText } from '../domain/dataset';
import { PYTHON, REPO_ROOT, tinyModel } from '../test/integration/helpers/tiny-model';

const BATCHES = [1, 32];
type Figures = { textsPerSecond: number; p50Ms: number; p99Ms: number; outsideShare: number };

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

async function newestDemoRun(): Promise<string | null> {
  const runs = path.join(REPO_ROOT, '.data/artifacts/models/thai-sentiment/runs');
  if (!existsSync(runs)) return null;
  const dirs = (await readdir(runs)).map((d) => path.join(runs, d)).filter((d) => existsSync(path.join(d, 'model.pt')));
  const dated = await Promise.all(dirs.map(async (d) => ({ d, t: (await stat(d)).mtimeMs })));
  return dated.sort((a, b) => b.t - a.t)[0]?.d ?? null;
}

const percentile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((q / 100) * s.length))]!;
};

// Time inside onnxruntime's session.run, to tell the model's own time from everything around it:
// every session shares its class's run, so wrapping it once times the scorer's session too.
let insideMs = 0;
async function timeSessionRuns(modelPath: string): Promise<void> {
  const probe = await ort.InferenceSession.create(modelPath);
  const proto = Object.getPrototypeOf(probe) as { run: ort.InferenceSession['run'] };
  const original = proto.run;
  proto.run = async function (this: ort.InferenceSession, ...args: Parameters<ort.InferenceSession['run']>) {
    const t0 = performance.now();
    try {
      return await (original as (...a: typeof args) => ReturnType<ort.InferenceSession['run']>).apply(this, args);
    } finally {
      insideMs += performance.now() - t0;
    }
  } as ort.InferenceSession['run'];
  await probe.release();
}

async function nodeFigures(modelDir: string, texts: string[], batch: number): Promise<Figures> {
  const scorer = await loadScorer(modelDir, { batchSize: batch });
  try {
    await scorer.predict(texts.slice(0, 64)); // warm-up
    insideMs = 0;
    const latencies: number[] = [];
    const started = performance.now();
    for (let i = 0; i < texts.length; i += batch) {
      const t0 = performance.now();
      await scorer.predict(texts.slice(i, i + batch));
      latencies.push(performance.now() - t0);
    }
    const total = performance.now() - started;
    return {
      textsPerSecond: (texts.length / total) * 1000,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      outsideShare: 1 - insideMs / total,
    };
  } finally {
    await scorer.close();
  }
}

async function main() {
  const modelDir = flag('model') ?? (await newestDemoRun()) ?? (await tinyModel()).dir;
  const count = Number(flag('texts') ?? 1024);
  const corpus = (await readFile(path.join(REPO_ROOT, 'data/wisesight/valid.jsonl'), 'utf8')).split('\n').filter(Boolean);
  const texts = corpus.slice(0, count).map((line) => normalizeText((JSON.parse(line) as { text: string }).text));
  const config = JSON.parse(await readFile(path.join(modelDir, 'config.json'), 'utf8').catch(() => '{}')) as { params?: { maxLength?: number } };
  const maxLength = config.params?.maxLength ?? 128;
  console.log(
    `model ${modelDir}\n${texts.length} texts of data/wisesight/valid.jsonl, maxLength ${maxLength}, ${(await import('node:os')).cpus().length} cores\n`,
  );

  await timeSessionRuns(path.join(modelDir, 'model.onnx'));
  const node: Record<number, Figures> = {};
  for (const b of BATCHES) node[b] = await nodeFigures(modelDir, texts, b);
  const file = path.join(await mkdtemp(path.join(tmpdir(), 'mlc-bench-')), 'texts.json');
  await writeFile(file, JSON.stringify(texts));
  const { stdout } = await promisify(execFile)(
    PYTHON,
    [path.join(REPO_ROOT, 'bench/scoring_peer.py'), modelDir, file, String(maxLength), ...BATCHES.map(String)],
    {
      maxBuffer: 1 << 20,
    },
  );
  const peers = JSON.parse(stdout) as Record<string, Record<number, Figures>>;
  const rows = [['node (transformers.js + onnxruntime-node)', node] as const, ...Object.entries(peers).map(([k, v]) => [k, v] as const)];

  console.log('runtime                                    batch   texts/s   p50 ms   p99 ms   outside model call');
  for (const [name, figures] of rows) {
    for (const b of BATCHES) {
      const f = figures[b]!;
      console.log(
        `${name.padEnd(42)} ${String(b).padStart(5)} ${f.textsPerSecond.toFixed(0).padStart(9)} ${f.p50Ms.toFixed(2).padStart(8)} ${f.p99Ms.toFixed(2).padStart(8)} ${(f.outsideShare * 100).toFixed(0).padStart(10)}%`,
      );
    }
  }
  console.log('');
  for (const b of BATCHES) {
    const vsOrt = node[b]!.textsPerSecond / peers['python-onnxruntime']![b]!.textsPerSecond;
    const vsEager = node[b]!.textsPerSecond / peers['pytorch-eager']![b]!.textsPerSecond;
    console.log(`batch ${b}: node / python onnxruntime = ${vsOrt.toFixed(2)}× (target ≥ 1.0), node / pytorch eager = ${vsEager.toFixed(2)}× (target ≥ 3)`);
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
