// The preprocess stage on the repository's real data: the example spec, the Wisesight sample
// and its feedback file. No services needed; it lives here because it reads real files.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { preprocessDataset, type PreprocessResult } from '../../adapters/datasets/preprocess';
import { parseSpec, type ModelSpec } from '../../domain/spec';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const specPath = join(repo, 'examples/thai-sentiment.yaml');
const feedback = join(repo, 'data/wisesight-sample/feedback.jsonl');

let dir: string;
let spec: ModelSpec;
let first: PreprocessResult;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mlc-preprocess-'));
  // The example's settings on the 3,000-row sample (the example itself trains on the full corpus).
  const example = parseSpec(parse(await readFile(specPath, 'utf8')), specPath);
  spec = { ...example, data: { ...example.data, path: '../data/wisesight-sample/train.jsonl' } };
  first = await preprocessDataset({ spec, specDir: dirname(specPath), outDir: join(dir, 'a') });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const texts = async (outDir: string, split: string) =>
  (await readFile(join(outDir, `${split}.jsonl`), 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { text: string }).text);

/** Population stability index over label shares (Evidently: ≥0.25 is a major shift). */
function psi(a: Record<string, number>, b: Record<string, number>): number {
  const sum = (x: Record<string, number>) => Object.values(x).reduce((s, v) => s + v, 0);
  return Object.keys(a).reduce((s, k) => {
    const pa = Math.max(a[k]! / sum(a), 1e-4);
    const pb = Math.max((b[k] ?? 0) / sum(b), 1e-4);
    return s + (pb - pa) * Math.log(pb / pa);
  }, 0);
}

describe('preprocess on the Wisesight sample with examples/thai-sentiment.yaml', () => {
  it('accounts for all 3000 rows and keeps every label in every split', () => {
    const r = first.report;
    expect(r.input).toBe(3000);
    expect(r.kept + Object.values(r.quarantinedByReason).reduce((s, n) => s + n, 0) + r.duplicatesRemoved).toBe(3000);
    expect(r.kept).toBeGreaterThan(2990);
    for (const split of ['train', 'valid', 'test'] as const) {
      for (const label of spec.labels) expect(r.perLabel[split][label], `${label} in ${split}`).toBeGreaterThan(0);
    }
    expect(r.perLabel.test.q).toBe(Math.round(66 * 0.15));
    expect(r.warnings.some((w) => w.startsWith('label q has only 2.2% of rows'))).toBe(true);
  });

  it('writes normalized text: NFC, no zero-width spaces, single spaces', async () => {
    const all = (await Promise.all(['train', 'valid', 'test'].map((s) => texts(join(dir, 'a'), s)))).flat();
    expect(all.length).toBe(first.report.kept);
    expect(new Set(all).size).toBe(all.length);
    for (const t of all) {
      expect(t.normalize('NFC')).toBe(t);
      expect(t).not.toMatch(/\u200b|\s\s|^\s|\s$/);
    }
  });

  it('gives the same version twice', async () => {
    const again = await preprocessDataset({ spec, specDir: dirname(specPath), outDir: join(dir, 'b') });
    expect(again.hash).toBe(first.hash);
    expect(again.files.train.sha256).toBe(first.files.train.sha256);
  });

  it('retraining with feedback: a new version, drifted labels, and no old test row in train', async () => {
    const withFb = await preprocessDataset({ spec, specDir: dirname(specPath), outDir: join(dir, 'fb'), extraFiles: [feedback] });
    expect(withFb.hash).not.toBe(first.hash);
    expect(withFb.report.input).toBe(3300);
    expect(withFb.report.kept).toBeGreaterThan(first.report.kept + 290);

    const fbCounts: Record<string, number> = {};
    for (const line of (await readFile(feedback, 'utf8')).split('\n').filter(Boolean)) {
      const { label } = JSON.parse(line) as { label: string };
      fbCounts[label] = (fbCounts[label] ?? 0) + 1;
    }
    const trainCounts = Object.fromEntries(
      spec.labels.map((l) => [l, first.report.perLabel.train[l]! + first.report.perLabel.valid[l]! + first.report.perLabel.test[l]!]),
    );
    expect(psi(trainCounts, fbCounts)).toBeGreaterThan(spec.monitoring.psiThreshold);

    const newTrain = new Set(await texts(join(dir, 'fb'), 'train'));
    const oldTest = await texts(join(dir, 'a'), 'test');
    expect(oldTest.filter((t) => newTrain.has(t))).toEqual([]);
  });
});
