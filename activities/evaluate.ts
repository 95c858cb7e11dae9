// evaluate: score the held-out test split through ONNX in Node (the same path production
// uses), compute the metrics, check the spec's gates, and write the audit package: the page an
// auditor reads (audit-package.html), its data (audit-package.json), a markdown model card,
// and evaluation.json, monitoring's reference.
import { Context, log } from '@temporalio/activity';
import type { Prediction } from '../adapters/scoring/port';
import type { EvaluationSummary } from '../domain/lifecycle';
import { artifactLayout } from '../domain/artifact-layout';
import { calibration } from '../domain/calibration';
import { bootstrapReport, checkGates, classificationReport, type ConfidenceInterval } from '../domain/metrics';
import { sliceReport, type SliceResult } from '../domain/slices';
import type { MetricName } from '../domain/spec';
import { compareWithChampion } from './audit-package/champion';
import { explainExamples } from './audit-package/explain';
import { renderAuditPage } from './audit-package/html';
import { AUDIT_PACKAGE_SCHEMA, type AuditPackage, type Explanations } from './audit-package/model';
import { readRunSources } from './audit-package/sources';
import { renderModelCard } from './model-card';
import type { ActivityDeps } from './deps';
import { parseJsonl, scoreAll } from './scoring-helpers';

export interface EvaluateInput {
  model: string;
  version: number;
  runKey: string;
  runDir: string;
  datasetDir: string;
  labels: string[];
  gates: { metric: MetricName; min: number }[];
}

/** What evaluation.json holds: the audit package's data, and monitoring's reference. */
export interface EvaluationFile {
  model: string;
  version: number;
  report: ReturnType<typeof classificationReport>;
  /** Accuracy and macro precision, recall and F1 (audit-package.json adds each class's). */
  intervals: Record<string, ConfidenceInterval>;
  gates: ReturnType<typeof checkGates>;
  /** The same metrics on slices of the test split (length, script). */
  slices: SliceResult[];
  /** Predicted-label counts on the test split: the reference for drift. */
  predictedCounts: Record<string, number>;
  errors: { text: string; label: string; predicted: string; confidence: number }[];
}

/** The probability the model gave the label it predicted. */
const confidenceOf = (p: Prediction) => p.probabilities[p.label] ?? 0;

export function evaluateActivities({ store, registry, loadScorer }: ActivityDeps) {
  return {
    async evaluateModel(input: EvaluateInput): Promise<EvaluationSummary> {
      const ctx = Context.current();
      const test = parseJsonl(await store.get(`${input.datasetDir}/test.jsonl`));
      const texts = test.map((r) => r.text);
      const truth = test.map((r) => r.label);
      const scorer = await loadScorer(await store.localFolder(input.runDir));
      const runtime = scorer.runtime;
      let predictions: Prediction[];
      let explanations: Explanations;
      try {
        predictions = await scoreAll(scorer, texts, (done) => ctx.heartbeat(`${done}/${test.length}`));
        const scored = test.map((r, i) => ({ ...r, predicted: predictions[i]!.label, confidence: confidenceOf(predictions[i]!) }));
        explanations = await explainExamples(scorer, input.labels, scored, (done) => ctx.heartbeat(`explained ${done}`));
      } finally {
        await scorer.close();
      }
      const predicted = predictions.map((p) => p.label);
      const confidences = predictions.map(confidenceOf);
      const report = classificationReport(input.labels, truth, predicted);
      const intervals = bootstrapReport(input.labels, truth, predicted, { iterations: 500, seed: 7 });
      const gates = checkGates(report, input.gates);
      const predictedCounts = Object.fromEntries(input.labels.map((l) => [l, predicted.filter((p) => p === l).length]));
      const errors = test
        .map((r, i) => ({ text: r.text, label: r.label, predicted: predicted[i]!, confidence: confidences[i]! }))
        .filter((e) => e.label !== e.predicted)
        .sort((a, b) => b.confidence - a.confidence)
        .slice(0, 25);
      const slices = sliceReport(input.labels, texts, truth, predicted);
      const evaluation: EvaluationFile = {
        model: input.model,
        version: input.version,
        report,
        intervals: intervals.metrics,
        gates,
        slices,
        predictedCounts,
        errors,
      };
      const champion = await compareWithChampion({ store, registry, loadScorer }, { ...input, texts, truth, predicted }, (done) =>
        ctx.heartbeat(`champion ${done}/${test.length}`),
      );
      const sources = await readRunSources({ store, registry }, input);
      const pkg: AuditPackage = {
        schema: AUDIT_PACKAGE_SCHEMA,
        model: input.model,
        version: input.version,
        generatedAt: new Date().toISOString(),
        runKey: input.runKey,
        runUri: store.uriOf(input.runDir),
        datasetUri: store.uriOf(input.datasetDir),
        labels: input.labels,
        report,
        intervals,
        gates,
        calibration: calibration(
          confidences,
          predicted.map((p, i) => p === truth[i]),
        ),
        slices,
        training: sources.curves,
        data: sources.data,
        lineage: { ...sources.lineage, evaluationVersions: { ...(runtime ? { scorer: runtime } : {}), node: process.versions.node } },
        champion,
        explanations,
        errors,
      };
      const dir = artifactLayout.evaluation(input.runDir);
      const auditPackageKey = artifactLayout.auditPackage(input.runDir);
      await store.put(`${dir}/evaluation.json`, JSON.stringify(evaluation, null, 2));
      await store.put(`${dir}/model-card.md`, renderModelCard(evaluation, input));
      await store.put(`${dir}/audit-package.json`, JSON.stringify(pkg, null, 2));
      await store.put(auditPackageKey, renderAuditPage(pkg));
      const metrics: Record<string, number> = {
        test_accuracy: report.accuracy,
        test_macro_f1: report.macro_f1,
        test_macro_precision: report.macro_precision,
        test_macro_recall: report.macro_recall,
        test_ece: pkg.calibration.ece,
      };
      await registry.updateRun(input.runKey, { metrics });
      log.info('evaluated', { model: input.model, version: input.version, ...metrics, gatesPassed: gates.passed, auditPackage: store.uriOf(auditPackageKey) });
      return { metrics, gates: gates.results, gatesPassed: gates.passed, auditPackageKey };
    },
  };
}
