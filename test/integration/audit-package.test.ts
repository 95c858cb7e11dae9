// The audit package as an auditor gets it: a real evaluation (real preprocess, the tiny model
// from the real train.py, a deployed champion in a PGlite registry) writes the page, and
// headless Chromium (Debian's `chromium`) renders it. Chromium is driven over
// --remote-debugging-pipe (no port), which reports every request the page makes: the page must
// make none but its own file, every plot must have drawn shapes, and the screenshot must show
// the charts' colours. A probe page that does load from the network proves the watch works.
import { MockActivityEnvironment } from '@temporalio/testing';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createControlActivities, createScoringActivities, type ActivityDeps } from '../../activities';
import type { AuditPackage } from '../../activities/audit-package/model';
import type { EvaluateInput } from '../../activities/evaluate';
import type { PreparedDataset, PreprocessDataInput } from '../../activities/preprocess';
import type { PrepareRunInput } from '../../activities/training';
import { FsArtifactStore } from '../../adapters/artifacts/fs-store';
import { openRegistry } from '../../adapters/db/open';
import type { Registry } from '../../adapters/db/port';
import { loadScorer } from '../../adapters/scoring/onnx-scorer';
import { artifactLayout } from '../../domain/artifact-layout';
import type { EvaluationSummary } from '../../domain/lifecycle';
import { parseSpec, type TrainingParams } from '../../domain/spec';
import { Browser, countColour, decodePng } from './helpers/chromium';
import { localActivityDeps } from './helpers/activity-deps';
import { tinyDataset, tinyModel, TINY_LABELS, TINY_PARAMS, type TinyModel } from './helpers/tiny-model';

const name = 'audit-test';
const env = new MockActivityEnvironment();
const call = <A, R>(fn: (input: A) => Promise<R>, input: A): Promise<R> => env.run<[A], R, typeof fn>(fn, input);

let dir: string;
let registry: Registry;
let store: FsArtifactStore;
let model: TinyModel;
let deps: ActivityDeps;
let summary: EvaluationSummary;
let pkg: AuditPackage;
let datasetHash: string;

/** A run prepared the way a lifecycle prepares one, holding the tiny model's files, registered as a version. */
async function trainedVersion(runKey: string, attempt: number, dataset: PreparedDataset, params: TrainingParams): Promise<{ runDir: string; version: number }> {
  const control = createControlActivities(deps);
  const { runDir } = await call((i: PrepareRunInput) => control.prepareTrainingRun(i), {
    model: name,
    runKey,
    generation: 1,
    attempt,
    datasetHash: dataset.datasetHash,
    datasetDir: dataset.datasetDir,
    labels: TINY_LABELS,
    params,
    pretrainedDir: null,
    cluster: 'local',
  });
  for (const file of ['DONE', 'labels.json', 'metrics.json', 'model.onnx', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json']) {
    await cp(path.join(model.dir, file), path.join(store.root, runDir, file));
  }
  const { version } = await call((i: { model: string; runKey: string; runDir: string }) => control.registerTrainedModel(i), { model: name, runKey, runDir });
  return { runDir, version };
}

beforeAll(async () => {
  model = await tinyModel();
  dir = await mkdtemp(path.join(tmpdir(), 'mlc-audit-'));
  registry = await openRegistry({ dataDir: dir });
  store = new FsArtifactStore(path.join(dir, 'artifacts'));
  deps = localActivityDeps({ dataRoot: dir, registry, store });
  // Real preprocessing, so the data report has duplicates and quarantined rows to show.
  const rows = tinyDataset(240, 11);
  const lines = [...rows, rows[0], rows[1]].map((r) => JSON.stringify(r));
  lines.push('{"text": "ไม่มีป้ายกำกับ", "label": "spam"}', 'not json');
  const data = path.join(dir, 'data.jsonl');
  await writeFile(data, lines.join('\n') + '\n');
  const spec = parseSpec({
    name,
    labels: TINY_LABELS,
    data: { path: data },
    roles: { auditors: ['alice'], deployers: ['bob'] },
    training: { params: TINY_PARAMS },
  });
  const dataset = await call((i: PreprocessDataInput) => createControlActivities(deps).preprocessData(i), {
    spec,
    specDir: dir,
    generation: 1,
    extraDataKeys: [],
  });
  datasetHash = dataset.datasetHash;

  // v1 is the champion: deployed. v2 is the version under audit.
  const champion = await trainedVersion('g1-a1', 1, dataset, spec.training.params);
  await registry.recordDeployment({
    model: name,
    version: champion.version,
    target: 'local',
    endpointUrl: 'http://127.0.0.1:1',
    artifactSha256: (await registry.getModelVersion(name, champion.version))!.sha256,
    actor: 'bob',
    deploymentKey: 'd1',
  });
  const challenger = await trainedVersion('g1-a2', 2, dataset, spec.training.params);
  summary = await call((i: EvaluateInput) => createScoringActivities(deps).evaluateModel(i), {
    model: name,
    version: challenger.version,
    runKey: 'g1-a2',
    runDir: challenger.runDir,
    datasetDir: dataset.datasetDir,
    labels: TINY_LABELS,
    gates: [{ metric: 'macro_f1', min: 0 }],
  });
  pkg = JSON.parse(await readFile(path.join(store.root, artifactLayout.evaluation(challenger.runDir), 'audit-package.json'), 'utf8')) as AuditPackage;
});

afterAll(async () => {
  await registry?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the audit package of an evaluated version', () => {
  it('lies beside evaluation.json, with its data as JSON and the model card kept', async () => {
    const folder = path.dirname(path.join(store.root, summary.auditPackageKey));
    expect(summary.auditPackageKey.endsWith('/audit-package.html')).toBe(true);
    for (const file of ['audit-package.html', 'audit-package.json', 'evaluation.json', 'model-card.md']) expect(existsSync(path.join(folder, file))).toBe(true);
    expect(pkg.version).toBe(2);
    expect(Object.keys(pkg.intervals.metrics).sort()).toEqual(['accuracy', 'macro_f1', 'macro_precision', 'macro_recall']);
    for (const l of TINY_LABELS) expect(pkg.intervals.perClass[l]!.recall.value).toBe(pkg.report.perClass[l]!.recall);
    expect(pkg.calibration.bins.reduce((s, b) => s + b.count, 0)).toBe(pkg.report.n);
    expect(summary.metrics.test_ece).toBe(pkg.calibration.ece);
  });

  it('reads the lineage and the data report that training and preprocess left, and says what nobody recorded', () => {
    expect(pkg.lineage.datasetHash).toBe(datasetHash);
    expect(pkg.lineage.params).toMatchObject({ epochs: TINY_PARAMS.epochs, hiddenSize: TINY_PARAMS.hiddenSize });
    expect(pkg.lineage.cluster).toBe('local');
    expect(pkg.lineage.trainSeconds).toBeGreaterThan(0);
    expect(pkg.lineage.evaluationVersions.scorer).toMatch(/^onnxruntime-node \d+\.\d+/);
    expect(pkg.training.epochs[0]).toMatchObject({ epoch: 1 });
    expect(pkg.data).toMatchObject({ duplicatesRemoved: 2, quarantinedByReason: expect.objectContaining({ malformed: 1 }) });
  });

  it('scores the deployed champion on the challenger’s own test rows', () => {
    expect(pkg.champion.status).toBe('compared');
    if (pkg.champion.status !== 'compared') return;
    const { champion } = pkg.champion;
    expect(champion.version).toBe(1);
    expect(champion.report.n).toBe(pkg.report.n);
    // The same model files: the same predictions, so every paired difference is exactly zero.
    expect(champion.agreement).toBe(1);
    expect(champion.differences.macro_f1).toEqual({ value: 0, lower: 0, upper: 0 });
  });

  it('explains the most confident errors and a sample per class token by token, through the ONNX model', () => {
    expect(pkg.explanations.status).toBe('explained');
    if (pkg.explanations.status !== 'explained') return;
    const { items } = pkg.explanations;
    expect(items.length).toBeGreaterThan(0);
    expect(items.length).toBeLessThanOrEqual(30);
    expect(new Set(items.filter((i) => i.kind === 'sample').map((i) => i.label))).toEqual(new Set(TINY_LABELS));
    for (const item of items) {
      // Readable pieces: joined, they are the text (no cut Thai character or emoji).
      expect(item.attribution.tokens.map((t) => t.text).join('')).toBe(item.text);
      expect(item.attribution.tokens.some((t) => t.text.includes('\uFFFD'))).toBe(false);
      expect(item.attribution.label).toBe(item.predicted);
      expect(item.attribution.probability).toBeCloseTo(item.confidence, 5);
      expect(item.attribution.tokens.every((t) => t.weight === null || Number.isFinite(t.weight))).toBe(true);
    }
    expect(items.some((i) => i.attribution.tokens.some((t) => t.weight !== null && Math.abs(t.weight) > 1e-6))).toBe(true);
  });

  it('weighs only the tokens the model reads, from the same scores predict gives', async () => {
    const scorer = await loadScorer(model.dir);
    try {
      const long = 'อาหารอร่อยมาก ชอบมาก great '.repeat(8);
      const [whole] = await scorer.predict([long]);
      const explained = await scorer.explain!(long, whole!.label);
      expect(explained.probability).toBeCloseTo(whole!.probabilities[whole!.label]!, 6);
      expect(explained.tokens.map((t) => t.text).join('')).toBe(long);
      // maxLength 32 (30 after <s> and </s>): the rest is never read, so it has no weight.
      const read = explained.tokens.filter((t) => t.weight !== null);
      expect(read.length).toBeGreaterThan(5);
      expect(read.length).toBeLessThanOrEqual(TINY_PARAMS.maxLength - 2);
      expect(explained.tokens[explained.tokens.length - 1]!.weight).toBeNull();
      await expect(scorer.explain!('x', 'no-such-label')).rejects.toThrow(/cannot explain label "no-such-label"/);
    } finally {
      await scorer.close();
    }
  });

  it('renders in headless Chromium: every plot drawn, nothing requested from anywhere', async () => {
    const page = path.join(store.root, summary.auditPackageKey);
    const probe = path.join(dir, 'probe.html');
    await writeFile(probe, '<!doctype html><img src="http://audit-probe.invalid/p.png"><link rel="stylesheet" href="https://audit-probe.invalid/s.css">');
    const browser = await Browser.launch(dir);
    try {
      // The watch sees a page that does load from the network...
      const control = await browser.open(probe);
      expect(control.requests.filter((u) => u.includes('audit-probe.invalid'))).toHaveLength(2);
      // ...and the audit page loads nothing but itself.
      const audit = await browser.open(page);
      expect(audit.requests).toEqual([`file://${page}`]);
      const dom = (await browser.evaluate(INSPECT_PAGE)) as PageFacts;
      expect(dom.scripts).toBe(0);
      expect(dom.external).toEqual([]);
      expect(dom.charts.map((c) => c.id)).toEqual([
        'metrics',
        'per-class',
        'confusion',
        'reliability',
        'confidence',
        'loss-per-epoch',
        'validation-per-epoch',
        'loss-per-step',
        'slices',
        'champion-vs-challenger',
        'champion-difference',
        'data-per-label',
      ]);
      for (const chart of dom.charts) {
        expect(chart.width, chart.id).toBeGreaterThan(100);
        expect(chart.drawn, `${chart.id} has shapes with an area`).toBeGreaterThan(0);
      }
      expect(dom.charts.find((c) => c.id === 'confusion')!.drawn).toBeGreaterThanOrEqual(9);
      expect(dom.highlighted).toBeGreaterThan(0);
      expect(dom.text).toContain('Champion vs challenger');

      const png = await browser.screenshot();
      await writeFile(path.join(dir, 'audit-page.png'), png);
      const image = decodePng(png);
      expect([image.width, image.height]).toEqual([1280, 4000]);
      // The charts' colours are on screen, not just in the markup.
      expect(countColour(image, [0x00, 0x72, 0xb2])).toBeGreaterThan(2000);
      expect(countColour(image, [0xe6, 0x9f, 0x00])).toBeGreaterThan(500);
    } finally {
      await browser.close();
    }
  });
});

interface PageFacts {
  charts: { id: string; shapes: number; drawn: number; width: number; height: number }[];
  external: string[];
  scripts: number;
  highlighted: number;
  text: string;
}

/** Runs in the page (sent as text: this project compiles without the DOM library): what is drawn, what could load. */
const INSPECT_PAGE = `(() => {
  const charts = [...document.querySelectorAll('figure.chart')].map((f) => {
    const svg = f.querySelector('svg');
    const shapes = [...svg.querySelectorAll('rect, path, circle')];
    const drawn = shapes.filter((s) => { const box = s.getBBox(); return box.width > 0 || box.height > 0; }).length;
    const rect = svg.getBoundingClientRect();
    return { id: f.dataset.chart || '', shapes: shapes.length, drawn, width: rect.width, height: rect.height };
  });
  const external = [...document.querySelectorAll('[src], [href]')]
    .map((e) => e.getAttribute('src') || e.getAttribute('href') || '')
    .filter((u) => !u.startsWith('#'));
  return {
    charts,
    external,
    scripts: document.querySelectorAll('script').length,
    highlighted: document.querySelectorAll('.tokens span[style]').length,
    text: document.body.innerText,
  };
})()`;
