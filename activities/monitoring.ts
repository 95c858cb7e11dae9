// monitor: turn the predictions the endpoint logged and the feedback analysts sent into a
// report on the live version — drift of the predicted-label distribution against the test
// split, and accuracy on labelled feedback — and say plainly which threshold fired.
import { Context, log } from '@temporalio/activity';
import { normalizeText } from '../domain/dataset';
import { labelDriftReport } from '../domain/drift';
import type { ModelSpec } from '../domain/spec';
import type { ActivityDeps } from './deps';
import { artifactLayout } from '../domain/artifact-layout';
import type { EvaluationFile } from './evaluate';
import { scoreAll } from './scoring-helpers';

export interface MonitoringReportInput {
  model: string;
  labels: string[];
  monitoring: ModelSpec['monitoring'];
  deployment?: ModelSpec['deployment'];
}

export interface MonitoringReportResult {
  reportKey: string | null;
  version: number | null;
  degraded: boolean;
  reasons: string[];
  predictions: number;
  feedback: number;
  psi: number | null;
  feedbackAccuracy: number | null;
}

export function monitoringActivities({ store, registry, loadScorer, azureMl }: ActivityDeps) {
  return {
    async computeMonitoringReport(input: MonitoringReportInput): Promise<MonitoringReportResult> {
      const ctx = Context.current();
      const deployment = await registry.activeDeployment(input.model);
      if (!deployment) {
        return { reportKey: null, version: null, degraded: false, reasons: [`${input.model} is not deployed: nothing to monitor`], predictions: 0, feedback: 0, psi: null, feedbackAccuracy: null };
      }
      const mv = await registry.getModelVersion(input.model, deployment.version);
      const runDir = store.keyOf(mv!.artifactUri);
      const evaluation = JSON.parse((await store.get(`${artifactLayout.evaluation(runDir)}/evaluation.json`)).toString('utf8')) as EvaluationFile;
      const since = deployment.deployedAt;
      // Azure ML deployments log their requests to Blob (score.py); the built-in endpoint to the registry.
      const logged = input.deployment?.target === 'azureml'
        ? await azureMl(input.deployment.workspace).requestLog(input.model, new Date(since))
        : await registry.predictionsSince(input.model, since);
      const predictions = logged.filter((p) => p.version === deployment.version);
      const feedback = await registry.feedbackSince(input.model, since);
      const m = input.monitoring;
      const reasons: string[] = [];
      let degraded = false;

      let drift: ReturnType<typeof labelDriftReport> | null = null;
      if (predictions.length >= m.minPredictions) {
        const current = Object.fromEntries(input.labels.map((l) => [l, predictions.filter((p) => p.label === l).length]));
        drift = labelDriftReport(evaluation.predictedCounts, current, { psi: m.psiThreshold });
        if (drift.drifted) degraded = true;
        reasons.push(...drift.firedBy);
        if (!drift.drifted) reasons.push(`predicted-label PSI ${drift.psi.toFixed(3)} is below ${m.psiThreshold} over ${predictions.length} predictions`);
      } else {
        reasons.push(`drift not judged: ${predictions.length} predictions since deployment, fewer than ${m.minPredictions}`);
      }

      let feedbackAccuracy: number | null = null;
      if (feedback.length >= m.minFeedback) {
        const scorer = await loadScorer(await store.localFolder(runDir));
        try {
          const scored = await scoreAll(scorer, feedback.map((f) => normalizeText(f.text)), (n) => ctx.heartbeat(`feedback ${n}/${feedback.length}`));
          feedbackAccuracy = scored.filter((p, i) => p.label === feedback[i]!.label).length / feedback.length;
        } finally {
          await scorer.close();
        }
        if (feedbackAccuracy < m.minFeedbackAccuracy) {
          degraded = true;
          reasons.push(`accuracy on ${feedback.length} feedback rows is ${(feedbackAccuracy * 100).toFixed(1)}%, below the spec's ${(m.minFeedbackAccuracy * 100).toFixed(1)}%`);
        } else {
          reasons.push(`accuracy on ${feedback.length} feedback rows is ${(feedbackAccuracy * 100).toFixed(1)}%`);
        }
      } else {
        reasons.push(`accuracy not judged: ${feedback.length} feedback rows since deployment, fewer than ${m.minFeedback}`);
      }

      // The scheduled run's workflow id is unique per firing: a retried activity rewrites the same report.
      const reportKey = artifactLayout.monitoringReport(input.model, ctx.info.workflowExecution?.workflowId ?? ctx.info.activityId);
      const windowEnd = new Date().toISOString();
      const report = { model: input.model, version: deployment.version, windowStart: since, windowEnd, degraded, reasons, predictions: predictions.length, feedback: feedback.length, drift, feedbackAccuracy, thresholds: m };
      await store.put(reportKey, JSON.stringify(report, null, 2));
      await registry.saveMonitoringReport({ model: input.model, version: deployment.version, windowStart: since, windowEnd, report, degraded, reportKey });
      log.info('monitoring report', { model: input.model, degraded, reasons });
      return { reportKey, version: deployment.version, degraded, reasons, predictions: predictions.length, feedback: feedback.length, psi: drift?.psi ?? null, feedbackAccuracy };
    },

    /** Feedback since the live version was deployed, as training rows for the next generation. */
    async exportFeedbackData(input: { model: string; generation: number }): Promise<{ key: string; rows: number }> {
      const deployment = await registry.activeDeployment(input.model);
      const feedback = deployment ? await registry.feedbackSince(input.model, deployment.deployedAt) : [];
      const key = artifactLayout.feedback(input.model, input.generation);
      await store.put(key, feedback.map((f) => JSON.stringify({ text: f.text, label: f.label })).join('\n') + (feedback.length ? '\n' : ''));
      return { key, rows: feedback.length };
    },
  };
}
