// Property tests for the preprocess activity on bad data, as the worker runs it: a real
// FsArtifactStore and a data root in a temporary folder, errors turned into failures by
// withPermanentErrors. Every file either becomes a dataset whose counts add up (kept +
// quarantined + duplicates = records read, each quarantined row with its reason), or is
// refused with a dataset error that names the file and says what to fix; and a refusal leaves
// nothing half-written in the store (no dataset folder without its manifest, no temp files).
import { ApplicationFailure } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import fc from 'fast-check';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsArtifactStore } from '../adapters/artifacts/fs-store';
import type { Registry } from '../adapters/db/port';
import { artifactLayout } from '../domain/artifact-layout';
import { normalizeText, quarantineReasons } from '../domain/dataset';
import { parseSpec } from '../domain/spec';
import { loadConfig, type MlcConfig } from '../temporal.config';
import { fuzzSeed, fuzzTimeoutMs, preview, shown } from '../test/fuzz/arbitraries';
import { datasetCase, expectedJsonlLines, fileBytes, type DatasetCase } from '../test/fuzz/datasets';
import type { ActivityDeps } from './deps';
import { withPermanentErrors } from './errors';
import { preprocessActivities, type PreparedDataset, type PreprocessDataInput } from './preprocess';

/**
 * Each case gets a model of its own: dataset folders are named by the hash of the kept rows,
 * so two cases with the same good rows and different bad ones would otherwise share a folder
 * (the second finds it complete and leaves it, with the first case's quarantine.jsonl).
 */
const modelPrefix = 'fuzz-data';
const modelOf = (n: number) => `${modelPrefix}-${n}`;
/** Errors a person fixes by changing the data or the spec; anything else is a crash. */
const domainErrors = ['DatasetError', 'DatasetNotFoundError', 'DataPathRefusedError'];

// Quiet: every refusal is asserted below, so the activity's failure logs would only be noise.
const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
const env = new MockActivityEnvironment({}, { logger: quiet });
let base: string;
let root: string;
let store: FsArtifactStore;
let config: MlcConfig;
const recorded: { hash: string; report: Record<string, unknown> }[] = [];
const registry = {
  ensureModel: async () => {},
  recordDatasetVersion: async (v: { hash: string; report: Record<string, unknown> }) => {
    recorded.push(v);
  },
} as unknown as Registry;
let activities: ReturnType<typeof preprocessActivities>;

// Memory-backed temp space where there is one: the store fsyncs every file it writes, and on a
// disk the 1,500 fsyncs of 200 cases would take most of the time allowed for the whole fuzz run.
// The activity stages in os.tmpdir(), so it follows TMPDIR there too.
const savedTmpdir = process.env.TMPDIR;
const memoryTmp = existsSync('/dev/shm') ? '/dev/shm' : undefined;

beforeAll(async () => {
  if (memoryTmp) process.env.TMPDIR = memoryTmp;
  base = await realpath(await mkdtemp(path.join(tmpdir(), 'mlc-fuzz-pre-')));
  root = path.join(base, 'root');
  await mkdir(root);
  await mkdir(path.join(root, 'a-folder.jsonl'));
  store = new FsArtifactStore(path.join(base, 'artifacts'));
  config = loadConfig({ USER: process.env.USER, MLC_DATA_DIR: path.join(base, 'dotdata'), MLC_DATA_ROOTS: root });
  const unused = () => {
    throw new Error('not used by preprocess');
  };
  const deps: ActivityDeps = { config, registry, store, executor: unused, loadScorer: unused, temporal: null as never, endpointUrl: '', azureMl: unused };
  activities = withPermanentErrors(preprocessActivities(deps));
});
afterAll(async () => {
  await rm(base, { recursive: true, force: true });
  if (savedTmpdir === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmpdir;
});

/** Every file under the store's root as the filesystem has it, temp files included. */
const storeFiles = async () => ((await readdir(store.root, { recursive: true }).catch(() => [])) as string[]).sort();
const stagingLeft = async () => (await readdir(tmpdir())).filter((f) => f.startsWith(`mlc-preprocess-${modelPrefix}-`));
const jsonl = (b: Buffer) =>
  b
    .toString('utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

let runs = 0;
type Outcome = ({ ok: PreparedDataset } | { failure: ApplicationFailure }) & { model: string; before: string[] };

/** Writes the case's files, runs the activity; `before` lists the store just before the activity ran. */
async function run(c: DatasetCase, dataPath?: string): Promise<Outcome> {
  const n = ++runs;
  const folder = path.join(root, `case-${n}`);
  await mkdir(folder);
  await writeFile(path.join(folder, c.fileName), fileBytes(c));
  const extraDataKeys: string[] = [];
  if (c.feedback !== undefined) {
    const key = artifactLayout.feedback(modelOf(n), n);
    await store.put(key, c.feedback);
    extraDataKeys.push(key);
  }
  const spec = parseSpec({
    name: modelOf(n),
    labels: c.labels,
    data: { path: dataPath ?? c.fileName, textField: c.textField, labelField: c.labelField, ...(c.format && { format: c.format }) },
    roles: { auditors: ['alice'], deployers: ['bob'] },
  });
  const before = await storeFiles();
  return env
    .run((input: PreprocessDataInput) => activities.preprocessData(input), { spec, specDir: folder, generation: n, extraDataKeys })
    .then(
      (ok) => ({ ok: ok as PreparedDataset, model: spec.name, before }),
      (e: unknown) => {
        if (e instanceof ApplicationFailure) return { failure: e, model: spec.name, before };
        throw new Error(`preprocessData threw ${(e as Error)?.name}, not a failure: ${(e as Error)?.message}`, { cause: e });
      },
    );
}

/**
 * Why cleaning must set a JSONL record aside, worked out from the record alone; 'keep' when
 * it is fine on its own (it may still be a duplicate or contradict another row).
 */
function expectedReason(rec: Record<string, unknown>, c: DatasetCase): string {
  const field = (f: string) => (Object.hasOwn(rec, f) ? rec[f] : undefined);
  const [text, label] = [field(c.textField), field(c.labelField)];
  if (text === undefined || text === null || label === undefined || label === null) return 'missing_field';
  if (typeof text !== 'string' || !(typeof label === 'string' || (typeof label === 'number' && Number.isFinite(label)))) return 'malformed';
  if (normalizeText(text) === '') return 'empty_text';
  if (String(label).trim() === '') return 'missing_field';
  return c.labels.includes(String(label).trim()) ? 'keep' : 'unknown_label';
}

/** Each plain UTF-8 JSONL line that holds an object is set aside for exactly the reason it should be. */
function checkReasons(c: DatasetCase, quarantine: Record<string, unknown>[]): void {
  c.lines.forEach((line, i) => {
    if (!('text' in line)) return;
    let rec: unknown;
    try {
      rec = JSON.parse(line.text);
    } catch {
      return;
    }
    if (typeof rec !== 'object' || rec === null || Array.isArray(rec)) return;
    const expected = expectedReason(rec as Record<string, unknown>, c);
    const got = quarantine.filter((q) => q.line === i + 1 && q.source === c.fileName).map((q) => q.reason);
    if (expected === 'keep')
      expect(
        got.filter((r) => r !== 'conflicting_label'),
        `line ${i + 1}: ${preview(rec)}`,
      ).toEqual([]);
    else expect(got, `line ${i + 1}: ${preview(rec)}`).toEqual([expected]);
  });
}

async function checkAccepted(c: DatasetCase, bytes: Buffer, { ok, model }: { ok: PreparedDataset; model: string }): Promise<void> {
  const report = ok.report as {
    input: number;
    kept: number;
    duplicatesRemoved: number;
    quarantinedByReason: Record<string, number>;
    sources: { records: number; blankLines: number }[];
    unknownLabels: Record<string, unknown>;
  };
  const quarantinedCount = Object.values(report.quarantinedByReason).reduce((s, n) => s + n, 0);
  expect(report.kept + quarantinedCount + report.duplicatesRemoved).toBe(report.input);
  expect(report.sources.reduce((s, x) => s + x.records, 0)).toBe(report.input);
  const lines = expectedJsonlLines(c, bytes);
  if (lines !== undefined) expect(report.sources[0]!.records + report.sources[0]!.blankLines).toBe(lines);
  for (const v of Object.values(report.unknownLabels)) expect(typeof v).toBe('number');

  // Complete and verified in the store: the manifest vouches for every file.
  expect(ok.datasetDir).toBe(artifactLayout.dataset(model, ok.datasetHash));
  await store.verifyManifest(ok.datasetDir);
  const quarantine = jsonl(await store.get(`${ok.datasetDir}/quarantine.jsonl`));
  expect(quarantine).toHaveLength(quarantinedCount);
  for (const q of quarantine) {
    expect(quarantineReasons).toContain(q.reason);
    expect(String(q.detail).trim()).not.toBe('');
    expect(q.line).toBeGreaterThanOrEqual(1);
  }
  if (lines !== undefined) checkReasons(c, quarantine);
  const kept = (await Promise.all(['train', 'valid', 'test'].map(async (s) => jsonl(await store.get(`${ok.datasetDir}/${s}.jsonl`))))).flat();
  expect(kept).toHaveLength(report.kept);
  for (const row of kept) {
    expect(c.labels).toContain(row.label);
    expect(typeof row.text).toBe('string');
    expect(row.text).not.toBe('');
    expect(normalizeText(row.text as string)).toBe(row.text);
  }
  expect(recorded.at(-1)?.hash).toBe(ok.datasetHash);
}

async function checkRefused({ failure, model, before }: { failure: ApplicationFailure; model: string; before: string[] }, dataPath: string): Promise<void> {
  expect(domainErrors, `${failure.type}: ${failure.message}`).toContain(failure.type);
  expect(failure.nonRetryable).toBe(true);
  // Names the file (as the spec or a resolved path names it) and says what to do.
  expect(failure.message).toContain(path.basename(dataPath));
  const fix =
    failure.type === 'DataPathRefusedError' ? /Move the data under one of them/.exec(failure.message)?.[0] : (failure.cause as { hint?: string }).hint;
  expect(fix?.trim().length, `no fix in: ${failure.message}`).toBeGreaterThan(10);
  expect(failure.message).toContain(fix);
  expect(failure.message.length).toBeLessThan(4_000);

  // Nothing half-written: the only new files are the rejected rows, in full, for people to read.
  const after = await storeFiles();
  const added = after.filter((f) => !before.includes(f));
  const rejected = new RegExp(`^datasets/${model}/rejected/g\\d+-[^/]+(/quarantine\\.jsonl)?$`);
  const folders = new RegExp(`^datasets(/${model}(/rejected)?)?$`);
  for (const f of added)
    expect(f.split(path.sep).join('/'), `left in the store after a refusal: ${f}`).toMatch(new RegExp(`${rejected.source}|${folders.source}`));
  for (const f of added.filter((x) => x.endsWith('quarantine.jsonl'))) {
    for (const q of jsonl(await store.get(f))) expect(quarantineReasons).toContain(q.reason);
    expect(failure.message).toContain(store.uriOf(f));
  }
}

describe('preprocessData on bad data (property)', () => {
  it(
    'a complete dataset whose counts add up, or a refusal naming the file that leaves nothing half-written',
    async () => {
      const outcomes: Record<string, number> = {};
      await fc.assert(
        fc.asyncProperty(shown(datasetCase), async ({ value: c }) => {
          const staged = await stagingLeft();
          const result = await run(c);
          if ('ok' in result) await checkAccepted(c, fileBytes(c), result);
          else await checkRefused(result, c.fileName);
          expect(await stagingLeft()).toEqual(staged);
          const key = 'ok' in result ? 'accepted' : result.failure.type!;
          outcomes[key] = (outcomes[key] ?? 0) + 1;
        }),
        { numRuns: 200, seed: fuzzSeed },
      );
      // Both ways out were taken: a generator that only makes garbage would prove little.
      expect(outcomes.accepted ?? 0).toBeGreaterThan(20);
      expect(outcomes.DatasetError ?? 0).toBeGreaterThan(20);
      // Every dataset folder in the store is complete.
      const files = (await storeFiles()).map((f) => f.split(path.sep).join('/'));
      for (const dir of new Set(files.filter((f) => /^datasets\/[^/]+\/[0-9a-f]{64}\/.+/.test(f)).map((f) => f.split('/').slice(0, 3).join('/')))) {
        expect(files).toContain(`${dir}/manifest.json`);
      }
      expect(files.filter((f) => f.includes('.tmp-'))).toEqual([]);
    },
    2 * fuzzTimeoutMs,
  );

  it('paths that are no data file: missing, a folder, outside the data root', async () => {
    const c = fc.sample(datasetCase, { numRuns: 1, seed: fuzzSeed })[0]!;
    for (const dataPath of ['missing.jsonl', '../a-folder.jsonl', '../../outside.jsonl']) {
      const result = await run(c, dataPath);
      expect('failure' in result).toBe(true);
      if ('failure' in result) await checkRefused(result, dataPath);
    }
  });
});
