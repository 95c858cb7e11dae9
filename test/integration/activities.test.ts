// The activities on real adapters (PGlite registry, artifact folder, ONNX files from the real
// train.py, the real endpoint), run in Temporal's mock activity context: what the workflow
// tests fake, proved here.
import { MockActivityEnvironment } from '@temporalio/testing';
import { appendFile, cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createControlActivities, createScoringActivities, type ActivityDeps } from '../../activities';
import type { EvaluationFile } from '../../activities/evaluate';
import { FsArtifactStore } from '../../adapters/artifacts/fs-store';
import type { Registry } from '../../adapters/db/port';
import type { LoadScorer } from '../../adapters/scoring/port';
import { openRegistry } from '../../adapters/db/open';
import { startEndpoint, type Endpoint } from '../../adapters/endpoint/server';
import { loadScorer } from '../../adapters/scoring/onnx-scorer';
import { artifactLayout } from '../../domain/artifact-layout';
import { normalizeText } from '../../domain/dataset';
import { parseSpec } from '../../domain/spec';
import { localActivityDeps } from './helpers/activity-deps';
import { tinyDataset, tinyModel, TINY_LABELS, type TinyModel } from './helpers/tiny-model';

let dir: string;
let registry: Registry;
let store: FsArtifactStore;
let model: TinyModel;
let endpoint: Endpoint;
let deps: ActivityDeps;
const env = new MockActivityEnvironment();
/** Run one activity in a mock activity context, keeping its types. */
const call = <A, R>(fn: (input: A) => Promise<R>, input: A): Promise<R> => env.run<[A], R, typeof fn>(fn, input);
const name = 'activity-test';
const datasetDir = artifactLayout.dataset(name, 'h');
const r1 = artifactLayout.run(name, 'r1');

/** An auditor's (unsigned) approval of `sha256`, as a lifecycle without required signatures records it. */
function approve(model: string, version: number, sha256: string, key: string) {
  return registry.recordDecision({
    model,
    version,
    kind: 'audit',
    outcome: 'approved',
    actor: 'alice',
    reason: 'ok',
    artifactSha256: sha256,
    workflowId: 'mlc-test',
    decidedAt: new Date().toISOString(),
    decisionKey: `${model}-${key}`,
  });
}

async function stageRun(runKey: string): Promise<string> {
  const runDir = artifactLayout.run(name, runKey);
  await cp(model.dir, path.join(store.root, runDir), { recursive: true });
  await registry.createRun({
    runKey,
    model: name,
    generation: 1,
    attempt: 1,
    datasetHash: 'h',
    cluster: 'local',
    params: {},
    artifactUri: store.uriOf(runDir),
  });
  return runDir;
}

beforeAll(async () => {
  model = await tinyModel();
  dir = await mkdtemp(path.join(tmpdir(), 'mlc-activities-'));
  registry = await openRegistry({ dataDir: dir });
  store = new FsArtifactStore(path.join(dir, 'artifacts'));
  await cp(model.dataDir, path.join(store.root, datasetDir), { recursive: true });
  endpoint = await startEndpoint({
    host: '127.0.0.1',
    port: 0,
    apiKey: 'k'.repeat(32),
    loadScorer,
    resolveDeployment: async (m) => {
      const active = m ? await registry.activeDeployment(m) : null;
      const mv = active && (await registry.getModelVersion(active.model, active.version));
      return mv
        ? { model: active.model, version: active.version, sha256: active.artifactSha256, modelDir: await store.localFolder(store.keyOf(mv.artifactUri)) }
        : null;
    },
    logPredictions: (r) => registry.logPredictions(r),
    addFeedback: (r) => registry.addFeedback(r),
  });
  deps = localActivityDeps({ dataRoot: dir, registry, store, endpointUrl: endpoint.url });
});

afterAll(async () => {
  await endpoint?.close();
  await registry?.close();
});

describe('activities on real adapters', () => {
  it('registers a finished run as a version bound to the sha256 of its model.onnx', async () => {
    const runDir = await stageRun('r1');
    const control = createControlActivities(deps);
    const registered = await call(control.registerTrainedModel, { model: name, runKey: 'r1', runDir });
    expect(registered.version).toBe(1);
    expect(registered.sha256).toBe(await store.sha256(`${runDir}/model.onnx`));
    expect((await registry.getRun('r1'))?.state).toBe('succeeded');
    // The same run again (a retried activity) is the same version.
    expect((await call(control.registerTrainedModel, { model: name, runKey: 'r1', runDir })).version).toBe(1);
    // The curves slurm/train.py wrote into metrics.json are the run's metric history, once.
    const written = JSON.parse(await readFile(path.join(store.root, runDir, 'metrics.json'), 'utf8')) as { history: unknown[]; steps: unknown[] };
    const history = await registry.metricHistory('r1');
    expect(history.filter((p) => p.metric === 'val_macro_f1').map((p) => p.epoch)).toEqual(written.history.map((_, i) => i + 1));
    expect(history.filter((p) => p.metric === 'lr' && p.epoch === null)).toHaveLength(written.steps.length);
    expect((await registry.describeRun('r1'))?.gitCommit).toMatch(/^[0-9a-f]{40}$/);
  });

  it('refuses to register a run whose job left no ONNX file', async () => {
    const runDir = await stageRun('r-incomplete');
    await rm(path.join(store.root, `${runDir}/model.onnx`));
    await expect(call(createControlActivities(deps).registerTrainedModel, { model: name, runKey: 'r-incomplete', runDir })).rejects.toThrow(
      /model\.onnx is missing/,
    );
  });

  it('refuses data it cannot train on, pointing at the rows it set aside and why', async () => {
    const file = path.join(dir, 'unlabelled.jsonl');
    await writeFile(file, ['{"text": "ดีมาก", "label": "great"}', '{"text": "แย่", "label": "awful"}', 'not json'].join('\n') + '\n');
    const spec = parseSpec({ name, labels: ['neg', 'pos'], data: { path: file }, roles: { auditors: ['a'], deployers: ['b'] } });
    const failure = await call(createControlActivities(deps).preprocessData, { spec, specDir: dir, generation: 1, extraDataKeys: [] }).catch((e: unknown) => e);
    expect(failure).toMatchObject({
      type: 'DatasetError',
      nonRetryable: true,
      message: expect.stringMatching(/Rows set aside, each with its reason: .*quarantine\.jsonl/),
    });
    // Named by its store URI: the rows are kept in the artifact store, wherever that lives.
    const quarantine = /Rows set aside, each with its reason: (\S+)/.exec((failure as Error).message)![1]!;
    expect(quarantine.startsWith(store.rootUri)).toBe(true);
    expect((await store.get(store.keyOf(quarantine))).toString('utf8').trim().split('\n')).toHaveLength(3);
  });

  it('evaluates through ONNX and writes the audit package beside the run', async () => {
    const scoring = createScoringActivities(deps);
    const summary = await call(scoring.evaluateModel, {
      model: name,
      version: 1,
      runKey: 'r1',
      runDir: r1,
      datasetDir,
      labels: TINY_LABELS,
      gates: [
        { metric: 'accuracy' as const, min: 0 },
        { metric: 'macro_f1' as const, min: 1.01 },
      ],
    });
    expect(summary.gatesPassed).toBe(false);
    expect(summary.gates.map((g) => g.passed)).toEqual([true, false]);
    expect(summary.metrics.test_accuracy).toBeGreaterThan(0);
    expect(summary.auditPackageKey).toBe(artifactLayout.auditPackage(r1));
    expect(await registry.listModelAliases(name)).toContainEqual(expect.objectContaining({ alias: 'challenger', version: 1, setBy: 'evaluation' }));
    const page = await readFile(path.join(store.root, summary.auditPackageKey), 'utf8');
    expect(page).toMatch(/Confusion matrix/);
    expect(page).toMatch(/id="slices"[\s\S]*script: /);
    const card = await readFile(path.join(store.root, artifactLayout.evaluation(r1), 'model-card.md'), 'utf8');
    expect(card).toMatch(/## Per slice[\s\S]*\| script: /);
    // Both ONNX files the job wrote, side by side; fp32 (no deploy.json choice) is the served one.
    expect(card).toMatch(/## Serving precision[\s\S]*\| fp32 \(served\) \|[\s\S]*\| int8 \|/);
    expect(summary.metrics.texts_per_second_int8).toBeGreaterThan(0);
    const evaluation = JSON.parse(await readFile(path.join(store.root, artifactLayout.evaluation(r1), 'evaluation.json'), 'utf8')) as EvaluationFile;
    expect(evaluation.precisions?.map((p) => [p.precision, p.served])).toEqual([
      ['fp32', true],
      ['int8', false],
    ]);
    // The run's manifest is untouched by evaluation: what was audited is still verifiable.
    await store.verifyManifest(r1);
  });

  it('refuses to deploy a version no auditor approved, then deploys the approved bytes and waits until the endpoint serves them', async () => {
    const control = createControlActivities(deps);
    const sha = (await registry.getModelVersion(name, 1))!.sha256;
    await expect(call(control.deployModelVersion, { model: name, version: 1, auditedSha256: sha, actor: 'bob', deploymentKey: 'd0' })).rejects.toMatchObject({
      type: 'NotApproved',
      message: expect.stringContaining("no auditor's approval"),
    });
    // An approval of other bytes does not count either.
    await approve(name, 1, 'e'.repeat(64), 'a0');
    await expect(call(control.deployModelVersion, { model: name, version: 1, auditedSha256: sha, actor: 'bob', deploymentKey: 'd0' })).rejects.toMatchObject({
      type: 'NotApproved',
    });
    await approve(name, 1, sha, 'a1');
    await call(control.deployModelVersion, { model: name, version: 1, auditedSha256: sha, actor: 'bob', deploymentKey: 'd1' });
    const health = (await (await fetch(`${endpoint.url}/health`)).json()) as { models: { model: string; version: number }[] };
    expect(health.models).toContainEqual(expect.objectContaining({ model: name, version: 1 }));
    expect(await registry.listModelAliases(name)).toContainEqual(expect.objectContaining({ alias: 'champion', version: 1, setBy: 'bob' }));
  });

  it('refuses to deploy when the artifact differs from the audited one', async () => {
    const control = createControlActivities(deps);
    const sha = (await registry.getModelVersion(name, 1))!.sha256;
    await expect(
      call(control.deployModelVersion, { model: name, version: 1, auditedSha256: 'f'.repeat(64), actor: 'bob', deploymentKey: 'd2' }),
    ).rejects.toMatchObject({ type: 'ArtifactHashMismatch', nonRetryable: true });
    await appendFile(path.join(store.root, r1, 'model.onnx'), Buffer.from([0]));
    await expect(call(control.deployModelVersion, { model: name, version: 1, auditedSha256: sha, actor: 'bob', deploymentKey: 'd3' })).rejects.toMatchObject({
      type: 'ArtifactIntegrityError',
      nonRetryable: true,
    });
    expect((await registry.activeDeployment(name))?.deploymentKey).toBe('d1');
  });
});

describe('monitoring feedback that names the request it labels', () => {
  const watched = 'activity-monitored';
  const post = async <T>(route: string, body: unknown): Promise<T> => {
    const res = await fetch(`${endpoint.url}${route}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${'k'.repeat(32)}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${route} answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as T;
  };
  type Served = { requestId: string; predictions: { label: string }[] };
  const score = (texts: string[]) => post<Served>('/score', { model: watched, texts });

  it('judges joined rows by the served label, re-scores text-only rows, and names ids it cannot join', async () => {
    // A version of its own, served by the real endpoint: the tests above tamper with r1's bytes.
    const runDir = artifactLayout.run(watched, 'monitored-r1');
    await cp(model.dir, path.join(store.root, runDir), { recursive: true });
    await registry.createRun({
      runKey: 'monitored-r1',
      model: watched,
      generation: 1,
      attempt: 1,
      datasetHash: 'h',
      cluster: 'local',
      params: {},
      artifactUri: store.uriOf(runDir),
    });
    const control = createControlActivities(deps);
    const { version, sha256 } = await call(control.registerTrainedModel, { model: watched, runKey: 'monitored-r1', runDir });
    await approve(watched, version, sha256, 'monitored-a1');
    await call(createScoringActivities(deps).evaluateModel, {
      model: watched,
      version,
      runKey: 'monitored-r1',
      runDir,
      datasetDir,
      labels: TINY_LABELS,
      gates: [{ metric: 'accuracy' as const, min: 0 }],
    });
    await call(control.deployModelVersion, { model: watched, version, auditedSha256: sha256, actor: 'bob', deploymentKey: 'monitored-d1' });

    const [t1, t2, t3, t4, b1, b2, plain] = tinyDataset(7, 11).map((r) => r.text);
    const singles = [];
    for (const t of [t1!, t2!, t3!, t4!]) singles.push(await score([t]));
    const batch = await score([b1!, b2!]);
    const plainLabel = (await score([plain!])).predictions[0]!.label;
    const servedLabel = (s: Served, i = 0) => s.predictions[i]!.label;
    const otherLabel = (l: string) => TINY_LABELS.find((x) => x !== l)!;
    await post('/feedback', {
      model: watched,
      source: 'analyst',
      items: [
        { requestId: singles[0]!.requestId, label: servedLabel(singles[0]!) },
        { requestId: singles[1]!.requestId, text: '  an unclean COPY  ', label: servedLabel(singles[1]!) },
        { requestId: singles[2]!.requestId, label: servedLabel(singles[2]!) },
        { requestId: singles[3]!.requestId, label: otherLabel(servedLabel(singles[3]!)) }, // served wrong
        { requestId: batch.requestId, text: b2, label: servedLabel(batch, 1) }, // the text picks within the batch
        { requestId: batch.requestId, label: 'neg' }, // which of the batch's two texts? ambiguous
        { requestId: 'never-served-1', label: 'pos' },
        { text: plain, label: plainLabel },
      ],
    });

    // Counts the texts re-scored: rows joined by request id must not be.
    const rescored: string[] = [];
    const counting: LoadScorer = async (dir, options) => {
      const scorer = await loadScorer(dir, options);
      return { labels: scorer.labels, close: () => scorer.close(), predict: (texts) => (rescored.push(...texts), scorer.predict(texts)) };
    };
    const monitoring = parseSpec({
      name: watched,
      labels: TINY_LABELS,
      data: { path: 'x' },
      roles: { auditors: ['a'], deployers: ['b'] },
      monitoring: { minFeedback: 6, minPredictions: 1, minFeedbackAccuracy: 0.5 },
    }).monitoring;
    const result = await call(createScoringActivities({ ...deps, loadScorer: counting }).computeMonitoringReport, {
      model: watched,
      labels: TINY_LABELS,
      monitoring,
    });

    expect(rescored).toEqual([normalizeText(plain!)]);
    expect(result.feedback).toBe(8);
    expect(result.feedbackAccuracy).toBeCloseTo(5 / 6); // 5 joined (4 served right) + 1 re-scored (right)
    const since = (await registry.activeDeployment(watched))!.deployedAt;
    expect(result.reasons).toContain('accuracy on 6 feedback rows (5 joined by request id to what was served, 1 re-scored) is 83.3%');
    expect(result.reasons).toContainEqual(
      expect.stringMatching(new RegExp(`^1 feedback rows name request ids not served by version ${version} since ${since}: never-served-1;`)),
    );
    expect(result.reasons).toContainEqual(
      expect.stringMatching(new RegExp(`^1 feedback rows name batch requests that served several texts: ${batch.requestId};`)),
    );
    const saved = await registry.latestMonitoringReport(watched);
    expect(saved!.report).toMatchObject({ feedback: 8, feedbackBasis: { joinedByRequestId: 5, rescored: 1, unmatchedRequestIds: 1, ambiguousRequestIds: 1 } });

    // Retraining learns from the text that was served, not the analyst's copy; rows with no text to learn from are left out.
    const exported = await call(control.exportFeedbackData, { model: watched, generation: 1 });
    const rows = (await store.get(exported.key))
      .toString('utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { text: string });
    expect(exported.rows).toBe(6);
    expect(rows.map((r) => r.text)).toEqual([t1, t2, t3, t4, b2, plain]);
  });
});
