// The window aggregated in SQL against the same window folded in TypeScript, on both real
// backends (PGlite in a temp folder, PostgreSQL in a database of its own): the two
// implementations of one summary must agree, or monitoring would judge a window differently
// on Azure ML (TypeScript fold) than on the built-in endpoint (SQL).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRegistry } from '../../adapters/db/open';
import type { PredictionRecord, Registry } from '../../adapters/db/port';
import { scoredRowOf } from '../../activities/monitoring-window';
import { summarize, type ScoredRow, type WindowSummary } from '../../domain/monitoring/features';
import { seededRandom } from '../../domain/random';
import { TOKENIZER_PROBES, tinyDataset } from './helpers/tiny-model';

const labels = ['neg', 'neu', 'pos'];
const baseUrl = process.env.MLC_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/mlc_test';
/** A database of its own: the registry suite drops mlc_test's tables while it runs. */
const pgUrl = (() => {
  const url = new URL(baseUrl);
  url.pathname = `/${decodeURIComponent(url.pathname.slice(1))}_monitoring`;
  return url.toString();
})();

async function freshPostgres(): Promise<void> {
  const url = new URL(pgUrl);
  const name = decodeURIComponent(url.pathname.slice(1));
  url.pathname = '/postgres';
  const admin = postgres(url.toString(), { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`drop database if exists "${name}" with (force)`);
    await admin.unsafe(`create database "${name}"`);
  } finally {
    await admin.end();
  }
}

/** Texts with Thai, Latin, digits, emoji, odd whitespace, an empty one; probabilities with ties and zeros. */
function predictionRows(n: number, seed: number, version: number, prefix: string): PredictionRecord[] {
  const random = seededRandom(seed);
  const texts = [...tinyDataset(60, seed).map((r) => r.text), ...TOKENIZER_PROBES];
  return Array.from({ length: n }, (_, i) => {
    const top = random() < 0.1 ? 1 : 0.34 + random() * 0.66;
    const label = labels[Math.floor(random() * 3)]!;
    const rest = (1 - top) * random();
    const probabilities = Object.fromEntries(labels.map((l) => [l, l === label ? top : 0]));
    const others = labels.filter((l) => l !== label);
    probabilities[others[0]!] = rest;
    probabilities[others[1]!] = 1 - top - rest;
    return { model: 'watched', version, requestId: `${prefix}-${i}`, text: texts[Math.floor(random() * texts.length)]!, label, probabilities };
  });
}

const scored = (rows: PredictionRecord[]): ScoredRow[] => rows.map(scoredRowOf);

function expectSame(sql: WindowSummary, ts: WindowSummary) {
  expect(sql.rows).toBe(ts.rows);
  expect(sql.distinctTexts).toBe(ts.distinctTexts);
  expect(sql.emptyTexts).toBe(ts.emptyTexts);
  expect(sql.labels).toEqual(ts.labels);
  expect(Object.keys(sql.numeric).sort()).toEqual(Object.keys(ts.numeric).sort());
  for (const [feature, h] of Object.entries(ts.numeric)) expect(sql.numeric[feature], feature).toEqual(h);
  expect(sql.confidence.map((c) => [c.label, c.confidence, c.rows])).toEqual(ts.confidence.map((c) => [c.label, c.confidence, c.rows]));
  sql.confidence.forEach((c, i) => {
    for (const l of labels) expect(c.spread[l]).toBeCloseTo(ts.confidence[i]!.spread[l]!, 9);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each([
  ['PGlite', () => mkdtemp(join(tmpdir(), 'mlc-window-')).then((dir) => ({ dir, url: undefined }))],
  ['PostgreSQL', () => freshPostgres().then(() => ({ dir: undefined, url: pgUrl }))],
] as const)('the prediction window on %s', (_name, open) => {
  let registry: Registry;
  let dir: string | undefined;
  const early = predictionRows(400, 1, 1, 'early');
  // Embeddings exact in float32 (multiples of 1/8), so what comes back equals what went in; token
  // stats on most rows (a few without, as rows logged before the scorer counted them).
  const late = predictionRows(700, 2, 1, 'late').map((p, i) => ({
    ...p,
    embedding: [i / 8, (i % 7) / 8, -1, 0.5],
    ...(i % 10 === 9 ? {} : { tokens: 3 + (i % 40), truncated: i % 40 === 38, fallbackTokens: i % 5 }),
  }));
  const otherVersion = predictionRows(100, 3, 2, 'v2');
  let between: string;

  beforeAll(async () => {
    const where = await open();
    dir = where.dir;
    registry = await openRegistry({ dataDir: dir ?? tmpdir(), databaseUrl: where.url });
    await registry.logPredictions(early);
    await sleep(20);
    between = new Date().toISOString();
    await sleep(20);
    await registry.logPredictions([...late, ...otherVersion]);
  });

  afterAll(async () => {
    await registry?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const window = (from: string, parts?: number) => ({ model: 'watched', version: 1, from, to: new Date(Date.now() + 60_000).toISOString(), labels, parts });

  it('SQL gives the TypeScript fold’s summary: histograms, labels, repeats, confidence cells', async () => {
    const ts = summarize(scored([...early, ...late]), labels);
    expect(ts.numeric.tokens!.length).toBeGreaterThan(10); // the token features are really in the comparison
    expect(ts.numeric.truncated).toEqual([
      [0, 613],
      [1, 17],
    ]);
    expectSame(await registry.summarizePredictions(window('2000-01-01T00:00:00Z')), ts);
  });

  it('holds only the window’s rows of its version, whatever the number of parts', async () => {
    const expected = summarize(scored(late), labels);
    for (const parts of [1, 2, 3]) expectSame(await registry.summarizePredictions(window(between, parts)), expected);
  });

  it('samples at most 500 logged embeddings of the window, uniformly, never rows without one', async () => {
    const logged = new Set(late.map((p) => JSON.stringify(p.embedding)));
    for (const from of ['2000-01-01T00:00:00Z', between]) {
      const { embeddings } = await registry.summarizePredictions(window(from));
      expect(embeddings).toHaveLength(500);
      expect(embeddings!.every((e) => logged.has(JSON.stringify(e)))).toBe(true);
      expect(new Set(embeddings!.map((e) => e[0])).size).toBe(500); // distinct rows, not repeats
    }
    // A window whose rows carry none has no sample at all (drift is then "not judged").
    const before = await registry.summarizePredictions({ ...window('2000-01-01T00:00:00Z'), to: between });
    expect(before.rows).toBe(400);
    expect(before.embeddings).toBeUndefined();
  });

  it('an empty window is an empty summary, not an error', async () => {
    const s = await registry.summarizePredictions(window(new Date(Date.now() + 30_000).toISOString()));
    expect(s).toMatchObject({ rows: 0, distinctTexts: 0, labels: { neg: 0, neu: 0, pos: 0 }, confidence: [] });
  });

  it('finds the predictions feedback names by request id, of one version or any', async () => {
    const one = await registry.predictionsByRequestIds({ model: 'watched', version: 1, requestIds: ['late-3', 'v2-3', 'nowhere'], since: between });
    expect(new Set(one.map((p) => p.requestId))).toEqual(new Set(['late-3']));
    expect(one.length).toBe(late.filter((p) => p.requestId === 'late-3').length);
    const any = await registry.predictionsByRequestIds({ model: 'watched', requestIds: ['late-3', 'v2-3'], since: between });
    expect(new Set(any.map((p) => p.requestId))).toEqual(new Set(['late-3', 'v2-3']));
  });

  it('lists monitoring reports newest first', async () => {
    const report = (key: string) => ({
      model: 'watched',
      version: 1,
      windowStart: between,
      windowEnd: new Date().toISOString(),
      report: { key },
      degraded: false,
      reportKey: key,
    });
    await registry.saveMonitoringReport(report('a'));
    await sleep(5);
    await registry.saveMonitoringReport(report('b'));
    expect((await registry.monitoringReports('watched', 10)).map((r) => r.reportKey)).toEqual(['b', 'a']);
    expect((await registry.monitoringReports('watched', 1)).map((r) => r.reportKey)).toEqual(['b']);
  });
});
