// Monitoring on real adapters: real preprocessing, the tiny model from the real train.py,
// a real evaluation (which writes the reference and the calibrator), the registry on PGlite,
// the artifact folder, and the activity computing reports over windows of logged predictions.
// Then the page, opened in headless Chromium: every plot drawn, nothing requested.
import { MockActivityEnvironment } from '@temporalio/testing';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createControlActivities, createScoringActivities, type ActivityDeps } from '../../activities';
import type { EvaluateInput, EvaluationFile } from '../../activities/evaluate';
import type { MonitoringReportInput, MonitoringReportResult } from '../../activities/monitoring';
import type { PreprocessDataInput } from '../../activities/preprocess';
import type { PrepareRunInput } from '../../activities/training';
import { FsArtifactStore } from '../../adapters/artifacts/fs-store';
import { openRegistry } from '../../adapters/db/open';
import type { PredictionRecord, Registry } from '../../adapters/db/port';
import { loadScorer } from '../../adapters/scoring/onnx-scorer';
import type { Prediction } from '../../adapters/scoring/port';
import { artifactLayout } from '../../domain/artifact-layout';
import type { MonitoringReport } from '../../domain/monitoring/report';
import { parseSpec } from '../../domain/spec';
import { Browser } from './helpers/chromium';
import { localActivityDeps } from './helpers/activity-deps';
import { tinyDataset, tinyModel, TINY_LABELS, TINY_PARAMS, type TinyModel } from './helpers/tiny-model';

const call = <A, R>(env: MockActivityEnvironment, fn: (input: A) => Promise<R>, input: A): Promise<R> => env.run<[A], R, typeof fn>(fn, input);
const once = new MockActivityEnvironment();

let dir: string;
let registry: Registry;
let store: FsArtifactStore;
let model: TinyModel;
let deps: ActivityDeps;
let webhook: Server;
const alerts: { headers: Record<string, unknown>; body: { event: string; reportKey: string; report: MonitoringReport } }[] = [];

/** A model of its own, trained (the tiny model's files), evaluated for real, and deployed. */
async function deployedModel(name: string): Promise<{ evaluation: EvaluationFile }> {
  const spec = parseSpec({
    name,
    labels: TINY_LABELS,
    data: { path: 'data.jsonl' },
    roles: { auditors: ['alice'], deployers: ['bob'] },
    training: { params: TINY_PARAMS },
  });
  const control = createControlActivities(deps);
  const dataset = await call(once, (i: PreprocessDataInput) => control.preprocessData(i), { spec, specDir: dir, generation: 1, extraDataKeys: [] });
  const runKey = `${name}-g1-a1`;
  const { runDir } = await call(once, (i: PrepareRunInput) => control.prepareTrainingRun(i), {
    model: name,
    runKey,
    generation: 1,
    attempt: 1,
    datasetHash: dataset.datasetHash,
    datasetDir: dataset.datasetDir,
    labels: TINY_LABELS,
    params: spec.training.params,
    pretrainedDir: null,
    cluster: 'local',
  });
  for (const file of ['DONE', 'labels.json', 'metrics.json', 'model.onnx', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json']) {
    await cp(path.join(model.dir, file), path.join(store.root, runDir, file));
  }
  const { version } = await call(once, (i: { model: string; runKey: string; runDir: string }) => control.registerTrainedModel(i), {
    model: name,
    runKey,
    runDir,
  });
  await call(once, (i: EvaluateInput) => createScoringActivities(deps).evaluateModel(i), {
    model: name,
    version,
    runKey,
    runDir,
    datasetDir: dataset.datasetDir,
    labels: TINY_LABELS,
    gates: [],
  });
  await registry.recordDeployment({
    model: name,
    version,
    target: 'local',
    endpointUrl: 'http://127.0.0.1:1',
    artifactSha256: (await registry.getModelVersion(name, version))!.sha256,
    actor: 'bob',
    deploymentKey: `${name}-d1`,
  });
  const evaluation = JSON.parse(await readFile(path.join(store.root, artifactLayout.evaluation(runDir), 'evaluation.json'), 'utf8')) as EvaluationFile;
  return { evaluation };
}

async function score(texts: string[]): Promise<Prediction[]> {
  const scorer = await loadScorer(model.dir);
  try {
    return await scorer.predict(texts);
  } finally {
    await scorer.close();
  }
}

/** Logs predictions as the endpoint would: one row per text, under its own request id. */
async function logPredictions(name: string, batch: string, rows: { text: string; prediction: Prediction }[]) {
  const records: PredictionRecord[] = rows.map((r, i) => ({
    model: name,
    version: 1,
    requestId: `${batch}-${i}`,
    text: r.text,
    label: r.prediction.label,
    probabilities: r.prediction.probabilities,
  }));
  await registry.logPredictions(records);
}

let runs = 0;
/** One scheduled monitoring run: its own workflow id, as each firing of the Schedule has. */
async function monitor(name: string, monitoring: Record<string, unknown> = {}): Promise<MonitoringReportResult> {
  const spec = parseSpec({
    name,
    labels: TINY_LABELS,
    data: { path: 'x' },
    roles: { auditors: ['a'], deployers: ['b'] },
    monitoring: { minPredictions: 100, ...monitoring },
  });
  const env = new MockActivityEnvironment({ workflowExecution: { workflowId: `mlc-monitor-${name}-run${++runs}`, runId: `r${runs}` } });
  const input: MonitoringReportInput = { model: name, labels: TINY_LABELS, monitoring: spec.monitoring };
  return call(env, createScoringActivities(deps).computeMonitoringReport, input);
}

const readReport = async (key: string) => JSON.parse(await readFile(path.join(store.root, key), 'utf8')) as MonitoringReport;

beforeAll(async () => {
  model = await tinyModel();
  dir = await mkdtemp(path.join(tmpdir(), 'mlc-monitoring-'));
  registry = await openRegistry({ dataDir: dir });
  store = new FsArtifactStore(path.join(dir, 'artifacts'));
  webhook = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      alerts.push({ headers: req.headers, body: JSON.parse(body) as (typeof alerts)[number]['body'] });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
  const { port } = webhook.address() as { port: number };
  deps = localActivityDeps({
    dataRoot: dir,
    registry,
    store,
    config: { monitoring: { alertWebhookUrl: `http://127.0.0.1:${port}/alerts?token=secret` } },
  });
  await writeFile(
    path.join(dir, 'data.jsonl'),
    tinyDataset(1500, 11)
      .map((r) => JSON.stringify(r))
      .join('\n') + '\n',
  );
});

afterAll(async () => {
  await registry?.close();
  await new Promise((resolve) => webhook?.close(resolve));
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('evaluation keeps monitoring’s reference', () => {
  it('the test split as a window, and a calibrator judged on the test split', async () => {
    const { evaluation } = await deployedModel('mon-reference');
    const ref = evaluation.monitoringReference!;
    expect(ref.summary.rows).toBe(evaluation.report.n);
    expect(Object.values(ref.summary.labels).reduce((s, x) => s + x, 0)).toBe(evaluation.report.n);
    expect(ref.summary.labels).toEqual(evaluation.predictedCounts);
    expect(Object.keys(ref.summary.numeric)).toEqual(expect.arrayContaining(['chars', 'thai_share', 'max_probability', 'entropy', 'p_neg', 'p_neu', 'p_pos']));
    expect(ref.testAccuracy).toBe(evaluation.report.accuracy);
    if (ref.calibrator.kind === 'isotonic') expect(ref.calibrator.eceAfter).toBeLessThan(ref.calibrator.eceBefore);
    else expect(ref.calibrator.why).toMatch(/ECE|too few/);
    expect(ref.estimatedTestAccuracy).toBeGreaterThan(0);
  });
});

describe('monitoring runs over windows of logged predictions', () => {
  const name = 'mon-length';
  const texts = (n: number, seed: number) => tinyDataset(n, seed).map((r) => r.text);

  it('catches a shift in input length alone (labels and probabilities unchanged), retrains only on the second such window, and alerts once', async () => {
    await deployedModel(name);
    const normal = texts(300, 101);
    const normalScored = await score(normal);
    await logPredictions(
      name,
      'w1',
      normal.map((text, i) => ({ text, prediction: normalScored[i]! })),
    );
    const first = await monitor(name);
    expect(first).toMatchObject({ breached: false, degraded: false, predictions: 300, driftedFeatures: [], alert: 'not needed' });

    // The same kind of messages, each sent twice over: twice as long, same scripts, and (as logged) the same outputs.
    for (const [batch, seed] of [
      ['w2', 102],
      ['w3', 103],
    ] as const) {
      const base = texts(300, seed);
      const scored = await score(base);
      await logPredictions(
        name,
        batch,
        base.map((text, i) => ({ text: text + text, prediction: scored[i]! })),
      );
    }
    // Both batches fall in the second window (600 rows); the third window gets a batch of its own.
    const second = await monitor(name);
    expect(second.predictions).toBe(600);
    expect(second).toMatchObject({ breached: true, degraded: false, driftedFeatures: ['chars'], alert: 'not needed' });
    expect(second.reasons[0]).toMatch(
      /^input "text length" \(chars\) drifted: Kolmogorov–Smirnov p .* is below 0\.05 .*mean \d+\.\d in the reference → \d+\.\d now\.$/,
    );
    expect(second.reasons).toContainEqual(expect.stringMatching(/1 of 2 consecutive breached windows needed before retraining/));

    const base = texts(300, 104);
    const scored = await score(base);
    await logPredictions(
      name,
      'w4',
      base.map((text, i) => ({ text: text + text, prediction: scored[i]! })),
    );
    const third = await monitor(name);
    expect(third).toMatchObject({ breached: true, degraded: true, predictions: 300, driftedFeatures: ['chars'], alert: 'sent' });
    expect(third.reasons[0]).toBe("2 consecutive windows breached (the spec's monitoring.consecutive is 2): retraining");
    expect(third.reasons).toContainEqual(expect.stringMatching(/input "text length" \(chars\) drifted/));
    expect(third.reasons).toContainEqual('the feature that moved most: "text length" (chars)');

    // The report and its page lie side by side; the registry keeps every window.
    const report = await readReport(third.reportKey!);
    expect(report).toMatchObject({
      schema: 'mlc.monitoring-report/2',
      degraded: true,
      breached: true,
      movedMost: 'chars',
      multipleTesting: expect.stringMatching(/Benjamini–Hochberg/),
    });
    expect(report.windowStart).toBe((await readReport(second.reportKey!)).windowEnd);
    expect(report.plots.map((p) => p.feature)).toEqual(['chars']);
    expect(report.trend.map((t) => t.breached)).toEqual([false, true, true]);
    expect(existsSync(path.join(store.root, third.pageKey!))).toBe(true);
    const saved = await registry.monitoringReports(name, 10);
    expect(saved.map((r) => r.degraded)).toEqual([true, false, false]);

    // Exactly one alert: the degraded window's report, keyed for idempotency; the URL's token stays out of the report.
    expect(alerts.filter((a) => a.body.report.model === name)).toHaveLength(1);
    const alert = alerts.find((a) => a.body.report.model === name)!;
    expect(alert.headers['idempotency-key']).toBe(third.reportKey);
    expect(alert.body).toMatchObject({ event: 'mlc.monitoring.degraded', reportKey: third.reportKey, report: { degraded: true, reasons: third.reasons } });
    expect(JSON.stringify(report)).not.toContain('secret');
  });

  it('a retried run recomputes the same window rather than a new one', async () => {
    const env = new MockActivityEnvironment({ workflowExecution: { workflowId: `mlc-monitor-${name}-run${runs}`, runId: `r${runs}` } });
    const spec = parseSpec({
      name,
      labels: TINY_LABELS,
      data: { path: 'x' },
      roles: { auditors: ['a'], deployers: ['b'] },
      monitoring: { minPredictions: 100 },
    });
    const again = await call(env, createScoringActivities(deps).computeMonitoringReport, { model: name, labels: TINY_LABELS, monitoring: spec.monitoring });
    expect(again).toMatchObject({ predictions: 300, degraded: true });
    expect((await registry.monitoringReports(name, 10)).length).toBe(3);
  });

  it('the page opens in headless Chromium: the drifted feature plotted, every chart drawn, nothing requested', async () => {
    const [latest] = await registry.monitoringReports(name, 1);
    const page = path.join(store.root, latest!.reportKey.replace(/\.json$/, '.html'));
    const browser = await Browser.launch(dir);
    try {
      const opened = await browser.open(page);
      expect(opened.requests).toEqual([`file://${page}`]);
      const facts = (await browser.evaluate(`(() => ({
        charts: [...document.querySelectorAll('figure.chart')].map((f) => ({
          id: f.dataset.chart,
          drawn: [...f.querySelectorAll('rect, path, circle')].filter((s) => { const b = s.getBBox(); return b.width > 0 || b.height > 0; }).length,
        })),
        scripts: document.querySelectorAll('script').length,
        text: document.body.innerText,
      }))()`)) as { charts: { id: string; drawn: number }[]; scripts: number; text: string };
      expect(facts.scripts).toBe(0);
      expect(facts.charts.map((c) => c.id)).toEqual(expect.arrayContaining(['estimated-per-class', 'drift-chars', 'trend']));
      for (const c of facts.charts) expect(c.drawn, c.id).toBeGreaterThan(0);
      expect(facts.text).toContain('degraded: retrain requested');
      expect(facts.text).toMatch(/estimated accuracy \d+\.\d%/);
      expect(facts.text).toContain('Benjamini–Hochberg');
    } finally {
      await browser.close();
    }
  });
});

describe('performance estimated without labels', () => {
  it('an estimate that falls retrains with no labelled feedback at all', async () => {
    const name = 'mon-cbpe';
    const { evaluation } = await deployedModel(name);
    // The same kind of messages; the model has become unsure of them: its probabilities flattened
    // (p^(1/8), renormalized), so every label stays what it was and only the confidence falls.
    const flatten = (p: Prediction): Prediction => {
      const powered = Object.fromEntries(Object.entries(p.probabilities).map(([l, v]) => [l, v ** (1 / 8)]));
      const total = Object.values(powered).reduce((s, v) => s + v, 0);
      return { label: p.label, probabilities: Object.fromEntries(Object.entries(powered).map(([l, v]) => [l, v / total])) };
    };
    const results: MonitoringReportResult[] = [];
    for (const [batch, seed] of [
      ['c1', 201],
      ['c2', 202],
    ] as const) {
      const base = tinyDataset(300, seed).map((r) => r.text);
      const scored = await score(base);
      await logPredictions(
        name,
        batch,
        base.map((text, i) => ({ text, prediction: flatten(scored[i]!) })),
      );
      results.push(await monitor(name));
    }
    const [first, second] = results as [MonitoringReportResult, MonitoringReportResult];
    expect(await registry.feedbackSince(name, '1970-01-01T00:00:00Z')).toEqual([]);
    expect(first).toMatchObject({ breached: true, degraded: false, feedback: 0, feedbackAccuracy: null });
    expect(second).toMatchObject({ breached: true, degraded: true, feedback: 0, feedbackAccuracy: null });
    const threshold = evaluation.report.accuracy - 0.1;
    expect(second.estimatedAccuracy!).toBeLessThan(threshold);
    expect(second.reasons).toContainEqual(
      expect.stringMatching(/^estimated accuracy \(CBPE, (isotonic|identity) calibration\) .* the whole 95% band is below .*, with no labels needed\.$/),
    );
    const report = await readReport(second.reportKey!);
    expect(report.performance.realized).toBeNull();
    expect(report.performance.estimated!.accuracy.upper).toBeLessThan(report.performance.threshold);
    expect(report.notes).toContainEqual(expect.stringMatching(/^accuracy not judged: 0 feedback rows since deployment/));
  });
});
