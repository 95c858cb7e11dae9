// Monitoring at a million predictions, side by side with Evidently, in one run:
//
//   npx tsx bench/monitoring.ts                    # 1,000,000 predictions, length shift, Evidently too
//   npx tsx bench/monitoring.ts --keep             # reuse the rows a previous run loaded
//   npx tsx bench/monitoring.ts --rows 200000 --shift confidence --no-evidently
//
// 1. Loads synthetic-but-realistic predictions into PostgreSQL (database <MLC_TEST_DATABASE_URL's>_bench,
//    so tests are not disturbed) with COPY: texts drawn from data/wisesight/train.jsonl with a
//    controlled shift, outputs from a stand-in model whose confidence means what it says.
// 2. Times one monitoring run (the window aggregated in SQL, every test, CBPE) in a child process,
//    so its peak memory (VmHWM) is its own; then Evidently's DataDriftPreset on the same window
//    and features (bench/monitoring_evidently.py, the venv's Python); prints the ratios and
//    whether both flag the same features.
// 3. False alarms and power: 200 windows without shift and 200 with it, at 500 and 5,000 rows.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { openRegistry } from '../adapters/db/open';
import { fitCalibrator } from '../domain/monitoring/cbpe';
import { scriptCounts, summarize, type ScoredRow } from '../domain/monitoring/features';
import { judgeWindow, type MonitoringReference, type WindowThresholds } from '../domain/monitoring/window';
import { seededRandom } from '../domain/random';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LABELS = ['neg', 'neu', 'pos', 'q'];
const MODEL = 'bench';
const VERSION = 1;
const thresholds: WindowThresholds = { psiThreshold: 0.25, minPredictions: 50, minEstimatedAccuracy: 0.5 };

type Shift = 'none' | 'length' | 'confidence' | 'label';
const SHIFTS: Shift[] = ['none', 'length', 'confidence', 'label'];

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? '') : undefined;
}
const has = (name: string) => process.argv.includes(`--${name}`);

interface Labelled {
  text: string;
  label: string;
}
const corpus = (file: string): Labelled[] =>
  readFileSync(path.join(root, 'data/wisesight', file), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Labelled);

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

/**
 * A stand-in model: right 72% of the time, and surer when right, so that its confidence carries
 * information as a real classifier's does. Deterministic per text.
 */
function scoreLike(row: Labelled, unsure = false): ScoredRow & { correct: boolean } {
  const random = seededRandom(hash(row.text));
  const correct = random() < 0.72;
  const others = LABELS.filter((l) => l !== row.label);
  const label = correct ? row.label : others[Math.floor(random() * others.length)]!;
  let top = correct ? 0.5 + 0.5 * random() ** 0.6 : 0.3 + 0.45 * random();
  if (unsure) top = 0.26 + (top - 0.26) * 0.35;
  const rest = LABELS.filter((l) => l !== label).map(() => random() + 0.05);
  const total = rest.reduce((s, x) => s + x, 0);
  const probabilities: Record<string, number> = {};
  let k = 0;
  for (const l of LABELS) probabilities[l] = l === label ? top : ((1 - top) * rest[k++]!) / total;
  return { text: row.text, label, probabilities, correct };
}

/** One production message under `shift`: what changes is what the shift names, nothing else. */
function draw(pool: Labelled[], random: () => number, shift: Shift): ScoredRow & { correct: boolean } {
  const pick = () => pool[Math.floor(random() * pool.length)]!;
  let row = pick();
  if (shift === 'label' && random() < 0.5) while (row.label !== 'q') row = pick();
  if (shift === 'length' && random() < 0.3) {
    const scored = scoreLike(row);
    return { ...scored, text: `${row.text} ${pick().text}` };
  }
  return scoreLike(row, shift === 'confidence' && random() < 0.5);
}

function mb(bytes: number) {
  return `${Math.round(bytes)} MB`;
}

/** PostgreSQL's COPY text format: backslash, tab and line breaks escaped. */
const copyField = (s: string) => s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');

/** Returns the load's seconds and the stand-in model's realized accuracy on the window. */
async function load(url: string, pool: Labelled[], rows: number, shift: Shift): Promise<{ seconds: number; realized: number }> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await sql`delete from predictions where model = ${MODEL}`;
    const started = performance.now();
    const stream = await sql`copy predictions (model, version, request_id, text, label, probabilities) from stdin`.writable();
    const random = seededRandom(2024);
    let correct = 0;
    const write = (chunk: string) => (stream.write(chunk) ? Promise.resolve() : new Promise<void>((r) => stream.once('drain', () => r())));
    for (let i = 0; i < rows; i += 5000) {
      let chunk = '';
      for (let j = i; j < Math.min(rows, i + 5000); j++) {
        const p = draw(pool, random, shift);
        if (p.correct) correct++;
        chunk += `${MODEL}\t${VERSION}\treq-${j}\t${copyField(p.text)}\t${p.label}\t${copyField(JSON.stringify(p.probabilities))}\n`;
      }
      await write(chunk);
    }
    await new Promise<void>((resolve, reject) => stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
    await sql`analyze predictions`;
    return { seconds: (performance.now() - started) / 1000, realized: correct / rows };
  } finally {
    await sql.end();
  }
}

/** Child mode: one monitoring run over the window, timing and peak memory of this process only. */
async function runOnce(url: string, referenceFile: string): Promise<void> {
  const reference = JSON.parse(readFileSync(referenceFile, 'utf8')) as MonitoringReference;
  const registry = await openRegistry({ databaseUrl: url, dataDir: tmpdir() });
  try {
    const started = performance.now();
    const summary = await registry.summarizePredictions({
      model: MODEL,
      version: VERSION,
      from: '2000-01-01T00:00:00Z',
      to: new Date(Date.now() + 60_000).toISOString(),
      labels: LABELS,
    });
    const aggregated = performance.now();
    const verdict = judgeWindow(reference, summary, LABELS, thresholds);
    const done = performance.now();
    const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    process.stdout.write(
      JSON.stringify({
        rows: summary.rows,
        sqlSeconds: (aggregated - started) / 1000,
        judgeSeconds: (done - aggregated) / 1000,
        totalSeconds: (done - started) / 1000,
        peakMb: Number(hwm) / 1024,
        drifted: verdict.features.filter((f) => f.drifted).map((f) => f.feature),
        features: verdict.features.map((f) => ({
          feature: f.feature,
          test: f.test,
          value: f.value,
          effect: f.effect,
          adjustedP: f.adjustedP,
          drifted: f.drifted,
        })),
        estimate: verdict.performance?.accuracy ?? null,
      }) + '\n',
    );
  } finally {
    await registry.close();
  }
}

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${command} ${args[0]} exited ${code}: ${err.slice(-2000)}`))));
  });
}

function benchDatabase(): string {
  const url = new URL(process.env.MLC_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/mlc_test');
  url.pathname = `/${decodeURIComponent(url.pathname.slice(1))}_bench`;
  return url.toString();
}

async function ensureDatabase(url: string): Promise<void> {
  const admin = new URL(url);
  const name = decodeURIComponent(admin.pathname.slice(1));
  admin.pathname = '/postgres';
  const sql = postgres(admin.toString(), { max: 1, onnotice: () => {} });
  try {
    if ((await sql`select 1 from pg_database where datname = ${name}`).length === 0) await sql.unsafe(`create database "${name.replace(/"/g, '""')}"`);
  } finally {
    await sql.end();
  }
}

/** Share of windows with at least one drifted feature (or any breach), over `count` windows of `size` rows. */
function flaggedShare(reference: MonitoringReference, pool: Labelled[], shift: Shift, size: number, count: number, seed: number) {
  const random = seededRandom(seed);
  let flagged = 0;
  let twice = 0;
  let previous = false;
  const features = new Map<string, number>();
  for (let w = 0; w < count; w++) {
    const rows = Array.from({ length: size }, () => draw(pool, random, shift));
    const v = judgeWindow(reference, summarize(rows, LABELS), LABELS, thresholds);
    if (v.breached) flagged++;
    // What monitoring.consecutive 2 acts on: this window and the one before both breached.
    if (v.breached && previous) twice++;
    previous = v.breached;
    for (const f of v.features) if (f.drifted) features.set(f.feature, (features.get(f.feature) ?? 0) + 1);
  }
  return { share: flagged / count, retrains: twice / Math.max(1, count - 1), features };
}

async function main() {
  if (has('run-once')) return runOnce(flag('url')!, flag('reference')!);
  const rows = Number(flag('rows') ?? 1_000_000);
  const shift = (flag('shift') ?? 'length') as Shift;
  if (!SHIFTS.includes(shift)) throw new Error(`--shift ${shift}: use one of ${SHIFTS.join(', ')}`);
  const windows = Number(flag('windows') ?? 200);
  const url = benchDatabase();
  const train = corpus('train.jsonl');
  const calibration = train.slice(0, 2000);
  const pool = train.slice(2000);
  const referenceRows = corpus('valid.jsonl').map((r) => scoreLike(r));
  const summary = summarize(referenceRows, LABELS);
  const calibrator = fitCalibrator(
    calibration.map((r) => scoreLike(r)).map((p) => ({ confidence: Math.max(...Object.values(p.probabilities)), correct: p.correct })),
    referenceRows.map((p) => ({ confidence: Math.max(...Object.values(p.probabilities)), correct: p.correct })),
    LABELS.length,
  );
  const accuracy = referenceRows.filter((r) => r.correct).length / referenceRows.length;
  const reference: MonitoringReference = { summary, calibrator, testAccuracy: accuracy, testMacroF1: 0, estimatedTestAccuracy: null };

  console.log(`monitoring bench: ${rows.toLocaleString('en')} predictions in PostgreSQL (${new URL(url).pathname.slice(1)}), shift "${shift}"`);
  console.log(
    `reference: ${referenceRows.length} rows (data/wisesight/valid.jsonl, stand-in model ${(accuracy * 100).toFixed(1)}% accurate), calibrator ${calibrator.kind}`,
  );
  await ensureDatabase(url);
  await openRegistry({ databaseUrl: url, dataDir: tmpdir() }).then((r) => r.close());
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  const [{ n }] = (await sql`select count(*)::int as n from predictions where model = ${MODEL}`) as unknown as [{ n: number }];
  await sql.end();
  let realized: number | null = null;
  if (has('keep') && n === rows) console.log(`load: kept the ${n.toLocaleString('en')} rows already there (--keep)`);
  else {
    const loaded = await load(url, pool, rows, shift);
    realized = loaded.realized;
    console.log(`load: COPY ${rows.toLocaleString('en')} rows in ${loaded.seconds.toFixed(1)} s (script counts computed by PostgreSQL as generated columns)`);
  }

  const dir = await mkdtemp(path.join(tmpdir(), 'mlc-bench-monitoring-'));
  try {
    const referenceFile = path.join(dir, 'reference.json');
    await writeFile(referenceFile, JSON.stringify(reference));
    const ours = JSON.parse(
      await run(process.execPath, ['--import', 'tsx', 'bench/monitoring.ts', '--run-once', '--url', url, '--reference', referenceFile]),
    ) as {
      rows: number;
      sqlSeconds: number;
      judgeSeconds: number;
      totalSeconds: number;
      peakMb: number;
      drifted: string[];
      estimate: { value: number; lower: number; upper: number } | null;
    };
    console.log('');
    console.log(`${''.padEnd(26)} ${'wall'.padStart(8)} ${'peak RSS'.padStart(10)}   drifted features`);
    console.log(
      `${'mlc (SQL + tests + CBPE)'.padEnd(26)} ${`${ours.totalSeconds.toFixed(2)} s`.padStart(8)} ${mb(ours.peakMb).padStart(10)}   ${ours.drifted.join(', ') || '—'}` +
        `   (SQL ${ours.sqlSeconds.toFixed(2)} s, tests ${ours.judgeSeconds.toFixed(2)} s)`,
    );
    if (!has('no-evidently')) {
      const rowsFile = path.join(dir, 'reference-rows.json');
      await writeFile(
        rowsFile,
        JSON.stringify(
          referenceRows.map((r) => {
            const c = scriptCounts(r.text);
            return {
              label: r.label,
              text_chars: c.chars,
              thai_chars: c.thai,
              latin_chars: c.latin,
              digit_chars: c.digit,
              space_chars: c.space,
              ...Object.fromEntries(LABELS.map((l) => [`p_${l}`, r.probabilities[l]])),
            };
          }),
        ),
      );
      const python = path.join(root, '.venv/bin/python');
      const output = await run(python, ['bench/monitoring_evidently.py', url, rowsFile, LABELS.join(','), String(VERSION)]).catch((e: Error) => {
        if (/No module named '(evidently|pandas)'/.test(e.message))
          throw new Error(`Evidently is not in the venv: .venv/bin/pip install -r bench/requirements.txt (or pass --no-evidently)`);
        throw e;
      });
      const evidently = JSON.parse(output) as {
        totalSeconds: number;
        reportSeconds: number;
        loadSeconds: number;
        peakMb: number;
        columns: { column: string; method: string; value: number; threshold: number; drifted: boolean }[];
      };
      const theirs = evidently.columns.filter((c) => c.drifted).map((c) => c.column);
      console.log(
        `${'Evidently DataDriftPreset'.padEnd(26)} ${`${evidently.totalSeconds.toFixed(2)} s`.padStart(8)} ${mb(evidently.peakMb).padStart(10)}   ${theirs.join(', ') || '—'}` +
          `   (reading rows ${evidently.loadSeconds.toFixed(2)} s, report ${evidently.reportSeconds.toFixed(2)} s)`,
      );
      console.log(
        `${'ratio Evidently / mlc'.padEnd(26)} ${`${(evidently.totalSeconds / ours.totalSeconds).toFixed(1)}x`.padStart(8)} ${`${(evidently.peakMb / ours.peakMb).toFixed(1)}x`.padStart(10)}`,
      );
      const same = ours.drifted.length === theirs.length && ours.drifted.every((f) => theirs.includes(f));
      const onlyOurs = ours.drifted.filter((f) => !theirs.includes(f));
      const onlyTheirs = theirs.filter((f) => !ours.drifted.includes(f));
      console.log(
        `same features flagged: ${same ? 'yes' : `no (only mlc: ${onlyOurs.join(', ') || '—'}; only Evidently: ${onlyTheirs.join(', ') || '—'})`}; ` +
          `Evidently's tests: ${[...new Set(evidently.columns.map((c) => c.method))].join(', ')}`,
      );
    }
    if (ours.estimate) {
      const e = ours.estimate;
      const truth = realized === null ? 'not known for kept rows' : `${(realized * 100).toFixed(2)}%`;
      console.log(
        `CBPE on the window, without labels: estimated accuracy ${(e.value * 100).toFixed(2)}% [${(e.lower * 100).toFixed(2)} – ${(e.upper * 100).toFixed(2)}]; realized (the stand-in's truth): ${truth}`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  console.log('');
  console.log(
    `false alarms and power: ${windows} windows each, drawn from data/wisesight/train.jsonl (in memory; the SQL and TypeScript summaries agree, test/integration/monitoring-window.test.ts)`,
  );
  for (const size of [500, 5000]) {
    const none = flaggedShare(reference, pool, 'none', size, windows, 7 + size);
    const shifted = flaggedShare(reference, pool, shift === 'none' ? 'length' : shift, size, windows, 11 + size);
    const top = [...shifted.features].sort((a, b) => b[1] - a[1])[0];
    console.log(
      `  ${String(size).padStart(5)} rows: without shift ${(none.share * 100).toFixed(1)}% flagged (target ≤ 5%; two in a row, a retrain at consecutive 2: ${(none.retrains * 100).toFixed(1)}%); ` +
        `with the "${shift === 'none' ? 'length' : shift}" shift ${(shifted.share * 100).toFixed(1)}% detected${top ? ` (most often: ${top[0]}, ${top[1]} of ${windows})` : ''}`,
    );
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
