// evaluate: score the held-out test split through ONNX in Node (the same path production
// uses), compute the metrics, check the spec's gates, and write the audit package: the page an
// auditor reads (audit-package.html), its data (audit-package.json), a markdown model card,
// and evaluation.json, monitoring's reference (the test split summarized, and a calibrator
// fitted on the validation split for estimating accuracy without labels). The run's fp32 and
// int8 ONNX files are both scored and shown side by side; the served one's predictions count.
import { Context, log } from '@temporalio/activity';
import { CHALLENGER } from '../adapters/db/aliases';
import type { Prediction, Scorer } from '../adapters/scoring/port';
import type { EvaluationSummary } from '../domain/lifecycle';
import { artifactLayout } from '../domain/artifact-layout';
import { calibration } from '../domain/calibration';
import { bootstrapReport, checkGates, classificationReport, type ConfidenceInterval } from '../domain/metrics';
import { estimatePerformance, fitCalibrator } from '../domain/monitoring/cbpe';
import { summarize, type ScoredRow } from '../domain/monitoring/features';
import type { MonitoringReference } from '../domain/monitoring/window';
import { sliceReport, type SliceResult } from '../domain/slices';
import type { MetricName } from '../domain/spec';
import { compareWithChampion } from './audit-package/champion';
import { explainExamples } from './audit-package/explain';
import { renderAuditPage } from './audit-package/html';
import { AUDIT_PACKAGE_SCHEMA, type AuditPackage, type Explanations } from './audit-package/model';
import { readRunSources } from './audit-package/sources';
import { renderModelCard } from './model-card';
import type { ActivityDeps } from './deps';
import { comparePrecisions, observedScoring, timedScoring, type PrecisionResult } from './precision-comparison';
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
  /**
   * Monitoring's reference: the test split summarized as a window (inputs, outputs, confidence
   * cells) and the calibrator CBPE uses. Absent in evaluations written before it existed.
   */
  monitoringReference?: MonitoringReference;
  errors: { text: string; label: string; predicted: string; confidence: number }[];
  /** fp32 and int8 on the test split, the served one marked; absent before int8 existed. */
  precisions?: PrecisionResult[];
}

/** The probability the model gave the label it predicted. */
const confidenceOf = (p: Prediction) => p.probabilities[p.label] ?? 0;

/**
 * What monitoring compares each window with: the test split as a window, and a calibrator
 * fitted on the validation split and kept only when it lowers the test split's ECE.
 */
function referenceFor(
  labels: string[],
  scoredTest: ScoredRow[],
  validation: { confidence: number; correct: boolean }[],
  test: { confidence: number; correct: boolean }[],
  report: ReturnType<typeof classificationReport>,
): MonitoringReference {
  const summary = summarize(scoredTest, labels);
  const calibrator = fitCalibrator(validation, test, labels.length);
  return {
    summary,
    calibrator,
    testAccuracy: report.accuracy,
    testMacroF1: report.macro_f1,
    estimatedTestAccuracy: estimatePerformance(summary, labels, calibrator)?.accuracy.value ?? null,
  };
}

export function evaluateActivities({ store, registry, loadScorer }: ActivityDeps) {
  return {
    async evaluateModel(input: EvaluateInput): Promise<EvaluationSummary> {
      const ctx = Context.current();
      const test = parseJsonl(await store.get(`${input.datasetDir}/test.jsonl`));
      const valid = parseJsonl(await store.get(`${input.datasetDir}/valid.jsonl`));
      /** Confidence and correctness on the validation split: what the calibrator is fitted on. */
      const scoreValidation = async (scorer: Scorer, onProgress: (done: number) => void) =>
        (
          await scoreAll(
            scorer,
            valid.map((r) => r.text),
            onProgress,
          )
        ).map((p, i) => ({ confidence: confidenceOf(p), correct: p.label === valid[i]!.label }));
      const texts = test.map((r) => r.text);
      const truth = test.map((r) => r.label);
      const modelDir = await store.localFolder(input.runDir);
      const scorer = await loadScorer(modelDir);
      const runtime = scorer.runtime;
      let predictions: Prediction[];
      let explanations: Explanations;
      let validation: { confidence: number; correct: boolean }[];
      let servedSeconds: number;
      try {
        // Monitoring's reference sees the test split as the endpoint logs production: token stats
        // and, where the model exports one, the projected embedding, from this same pass.
        ({ predictions, seconds: servedSeconds } = await timedScoring(
          scorer,
          texts,
          (done) => ctx.heartbeat(`${done}/${test.length}`),
          observedScoring(scorer),
        ));
        validation = await scoreValidation(scorer, (done) => ctx.heartbeat(`validation ${done}`));
        const scored = test.map((r, i) => ({ ...r, predicted: predictions[i]!.label, confidence: confidenceOf(predictions[i]!) }));
        explanations = await explainExamples(scorer, input.labels, scored, (done) => ctx.heartbeat(`explained ${done}`));
      } finally {
        await scorer.close();
      }
      const precisions = scorer.precision
        ? await comparePrecisions(
            loadScorer,
            modelDir,
            { texts, truth, labels: input.labels },
            { precision: scorer.precision, predictions, seconds: servedSeconds },
            (precision, done) => ctx.heartbeat(`${precision} ${done}/${test.length}`),
          )
        : [];
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
      const monitoringReference = referenceFor(
        input.labels,
        test.map((r, i) => ({
          text: r.text,
          label: predictions[i]!.label,
          probabilities: predictions[i]!.probabilities,
          embedding: predictions[i]!.embedding,
          tokenStats: predictions[i]!.tokenStats,
        })),
        validation,
        predicted.map((p, i) => ({ confidence: confidences[i]!, correct: p === truth[i] })),
        report,
      );
      const evaluation: EvaluationFile = {
        model: input.model,
        version: input.version,
        report,
        intervals: intervals.metrics,
        gates,
        slices,
        predictedCounts,
        errors,
        monitoringReference,
        precisions,
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
        // Each precision's, so `mlc runs compare` shows what int8 costs and buys.
        ...Object.fromEntries(
          precisions.flatMap((r) => [
            [`test_macro_f1_${r.precision}`, r.macro_f1],
            [`texts_per_second_${r.precision}`, r.textsPerSecond],
          ]),
        ),
      };
      await registry.updateRun(input.runKey, { metrics });
      await registry.setModelAlias({
        model: input.model,
        alias: CHALLENGER,
        version: input.version,
        setBy: 'evaluation',
        reason: `evaluated: gates ${gates.passed ? 'passed' : 'failed'}`,
        changeKey: `evaluation:${input.runKey}`,
      });
      log.info('evaluated', { model: input.model, version: input.version, ...metrics, gatesPassed: gates.passed, auditPackage: store.uriOf(auditPackageKey) });
      return { metrics, gates: gates.results, gatesPassed: gates.passed, auditPackageKey };
    },
  };
}
