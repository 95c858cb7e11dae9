// evaluate: score the held-out test split through ONNX in Node (the same path production
// uses), compute the metrics, check the spec's gates, and write the audit package.
import { Context, log } from '@temporalio/activity';
import type { EvaluationSummary } from '../domain/lifecycle';
import { bootstrapCI, checkGates, classificationReport, type ConfidenceInterval } from '../domain/metrics';
import { sliceReport, type SliceResult } from '../domain/slices';
import type { MetricName } from '../domain/spec';
import { renderModelCard } from './model-card';
import type { ActivityDeps } from './deps';
import { parseJsonl, scoreAll } from './scoring-helpers';
import { artifactLayout } from '../domain/artifact-layout';

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
  intervals: Record<string, ConfidenceInterval>;
  gates: ReturnType<typeof checkGates>;
  /** The same metrics on slices of the test split (length, script). */
  slices: SliceResult[];
  /** Predicted-label counts on the test split: the reference for drift. */
  predictedCounts: Record<string, number>;
  errors: { text: string; label: string; predicted: string; confidence: number }[];
}

export function evaluateActivities({ store, registry, loadScorer }: ActivityDeps) {
  return {
    async evaluateModel(input: EvaluateInput): Promise<EvaluationSummary> {
      const ctx = Context.current();
      const test = parseJsonl(await store.get(`${input.datasetDir}/test.jsonl`));
      const scorer = await loadScorer(await store.localFolder(input.runDir));
      let predictions;
      try {
        predictions = await scoreAll(
          scorer,
          test.map((r) => r.text),
          (done) => ctx.heartbeat(`${done}/${test.length}`),
        );
      } finally {
        await scorer.close();
      }
      const truth = test.map((r) => r.label);
      const predicted = predictions.map((p) => p.label);
      const report = classificationReport(input.labels, truth, predicted);
      const intervals = Object.fromEntries(
        (['accuracy', 'macro_f1'] as const).map((m) => [m, bootstrapCI(input.labels, truth, predicted, m, { iterations: 500, seed: 7 })]),
      );
      const gates = checkGates(report, input.gates);
      const predictedCounts = Object.fromEntries(input.labels.map((l) => [l, predicted.filter((p) => p === l).length]));
      const errors = test
        .map((r, i) => ({ text: r.text, label: r.label, predicted: predicted[i]!, confidence: predictions[i]!.probabilities[predicted[i]!] ?? 0 }))
        .filter((e) => e.label !== e.predicted)
        .sort((a, b) => b.confidence - a.confidence)
        .slice(0, 25);
      const slices = sliceReport(
        input.labels,
        test.map((r) => r.text),
        truth,
        predicted,
      );
      const evaluation: EvaluationFile = { model: input.model, version: input.version, report, intervals, gates, slices, predictedCounts, errors };
      const dir = artifactLayout.evaluation(input.runDir);
      await store.put(`${dir}/evaluation.json`, JSON.stringify(evaluation, null, 2));
      await store.put(`${dir}/model-card.md`, renderModelCard(evaluation, input));
      const metrics: Record<string, number> = {
        test_accuracy: report.accuracy,
        test_macro_f1: report.macro_f1,
        test_macro_precision: report.macro_precision,
        test_macro_recall: report.macro_recall,
      };
      await registry.updateRun(input.runKey, { metrics });
      log.info('evaluated', { model: input.model, version: input.version, ...metrics, gatesPassed: gates.passed });
      return { metrics, gates: gates.results, gatesPassed: gates.passed, auditPackageKey: `${dir}/model-card.md` };
    },
  };
}
