// mlc evaluate: a golden set scored through the product's cleaning and a version's scorer,
// printed with the model card's own tables, and nothing written to the registry.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricsTable, perClassTable } from '../activities/metrics-table';
import { renderModelCard } from '../activities/model-card';
import { FsArtifactStore } from '../adapters/artifacts/fs-store';
import { openMemoryRegistry } from '../adapters/db/memory';
import type { Registry } from '../adapters/db/port';
import type { LoadScorer } from '../adapters/scoring/port';
import { CliError } from './cli-error';
import { evaluateGoldenSet, formatGoldenSet } from './evaluate';

describe('mlc evaluate', () => {
  let registry: Registry;
  let store: FsArtifactStore;
  let dir: string;
  const seen: { dir: string; texts: string[] } = { dir: '', texts: [] };
  // Predicts pos for texts with "ดี" (good), neg otherwise; remembers what it was asked.
  const loadScorer: LoadScorer = async (modelDir) => {
    seen.dir = modelDir;
    return {
      labels: ['neg', 'pos'],
      async predict(texts) {
        seen.texts.push(...texts);
        return texts.map((t) => ({ label: t.includes('ดี') ? 'pos' : 'neg', probabilities: {} }));
      },
      async close() {},
    };
  };

  beforeAll(async () => {
    registry = await openMemoryRegistry();
    dir = await mkdtemp(path.join(tmpdir(), 'mlc-evaluate-'));
    store = new FsArtifactStore(path.join(dir, 'artifacts'));
    await store.put('models/m/runs/r2/model.onnx', 'onnx');
    await registry.registerModelVersion({ model: 'm', runKey: 'r1', artifactUri: store.uriOf('models/m/runs/r1'), sha256: 'a', metrics: {} });
    await registry.registerModelVersion({ model: 'm', runKey: 'r2', artifactUri: store.uriOf('models/m/runs/r2'), sha256: 'b', metrics: {} });
    await registry.setModelAlias({ model: 'm', alias: 'golden', version: 2, setBy: 'carol', reason: 'r', changeKey: 'k' });
  }, 120_000); // PGlite starts and migrates in seconds, far slower on a busy machine
  afterAll(() => registry.close());

  it("scores the cleaned rows with the version's scorer and reports what it skipped", async () => {
    const file = path.join(dir, 'golden.jsonl');
    const rows = [
      { text: '  อาหาร\u200bดี   มาก ', label: 'pos' },
      { text: 'แย่', label: 'neg' },
      { text: 'ดีไหม', label: 'neg' },
      { text: 'แย่', label: 'neg' },
      { text: 'เฉยๆ', label: 'neutral' },
      { text: '', label: 'pos' },
    ];
    await writeFile(file, `${rows.map((r) => JSON.stringify(r)).join('\n')}\n{broken\n`);
    const before = await registry.aliasHistory('m');
    const { result, cleaned } = await evaluateGoldenSet('m', { version: 'golden', data: file }, { registry, openStore: async () => store, loadScorer });

    expect(seen.dir).toBe(path.join(dir, 'artifacts/models/m/runs/r2'));
    expect(seen.texts).toEqual(['อาหารดี มาก', 'แย่', 'ดีไหม']); // normalised as training saw its data
    expect(result).toMatchObject({ model: 'm', version: 2, rows: 3, duplicatesRemoved: 1, skipped: { unknown_label: 1, empty_text: 1, malformed: 1 } });
    expect(result.report.accuracy).toBeCloseTo(2 / 3);
    expect(result.report.confusion).toEqual([
      [1, 1],
      [0, 1],
    ]);
    expect(result.intervals.accuracy.lower).toBeLessThanOrEqual(result.report.accuracy);

    const text = formatGoldenSet(result, cleaned);
    expect(text.split('\n')[0]).toBe(`# m v2 on ${file}: 3 rows scored (3 skipped: 1 unknown_label, 1 empty_text, 1 malformed; 1 duplicate removed)`);
    expect(text).toContain(metricsTable(result.report, result.intervals).join('\n'));
    expect(text).toContain(perClassTable(result.report).join('\n'));
    expect(text).toMatch(/line 5: unknown_label: label "neutral" is not one of neg, pos/);
    expect(await registry.aliasHistory('m')).toEqual(before);
    expect((await registry.listRuns('m')).length).toBe(0);
  });

  it('prints the same metric table as the model card', () => {
    const report = { accuracy: 0.5, macro_f1: 0.4, macro_precision: 0.45, macro_recall: 0.5, perClass: {}, confusion: [], labels: [], n: 2 };
    const intervals = { accuracy: { value: 0.5, lower: 0.2, upper: 0.8 } };
    const card = renderModelCard(
      { model: 'm', version: 1, report, intervals: intervals as never, gates: { passed: true, results: [] }, slices: [], predictedCounts: {}, errors: [] },
      { model: 'm', version: 1, runKey: 'r', runDir: 'd', datasetDir: 'x', labels: [], gates: [] },
    );
    expect(card).toContain(metricsTable(report, intervals).join('\n'));
    expect(metricsTable(report, intervals)).toContain('| accuracy | 50.0% | 20.0% – 80.0% |');
  });

  it('names what to fix: an unknown version or alias, a missing file, a file of neither format, a file with nothing to score', async () => {
    const deps = { registry, openStore: async () => store, loadScorer };
    const fail = (p: Promise<unknown>) =>
      p.then(
        () => null,
        (e: unknown) => e as CliError,
      );
    expect((await fail(evaluateGoldenSet('m', { version: '7', data: 'x' }, deps)))?.message).toMatch(/no version 7 .*mlc runs m/);
    expect((await fail(evaluateGoldenSet('m', { version: 'staging', data: 'x' }, deps)))?.message).toMatch(/no alias "staging"/);
    expect((await fail(evaluateGoldenSet('m', { version: '2', data: path.join(dir, 'nope.jsonl') }, deps)))?.message).toMatch(
      /--data .*nope\.jsonl: no such file/,
    );
    // The reader's own hint names a spec's data.format; there is no spec here. Said before the model is loaded.
    const noModel = { ...deps, loadScorer: () => Promise.reject(new Error('the model was loaded for a file that cannot be read')) };
    expect((await fail(evaluateGoldenSet('m', { version: '2', data: '/etc/hostname' }, noModel)))?.message).toBe(
      '--data /etc/hostname: cannot tell JSONL from CSV by the extension ""; name the file .jsonl or .csv',
    );
    const wrong = path.join(dir, 'wrong.jsonl');
    await writeFile(wrong, `${JSON.stringify({ sentence: 'ดี', y: 'pos' })}\n`);
    const error = await fail(evaluateGoldenSet('m', { version: '2', data: wrong }, deps));
    expect(error).toBeInstanceOf(CliError);
    expect(error?.message).toMatch(/no row can be scored .*line 1: missing "text" and "label" \(fields present: sentence, y\).*--text-field, --label-field/);
  });
});
