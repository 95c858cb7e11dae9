// monitor: turn the predictions the endpoint logged and the feedback analysts sent into a
// report on the live version — drift of the predicted-label distribution against the test
// split, and accuracy on labelled feedback — and say plainly which threshold fired.
// Feedback that names a request id is judged against the logged prediction (what was served);
// feedback with only a text is re-scored with the live version.
import { Context, log } from '@temporalio/activity';
import { normalizeText } from '../domain/dataset';
import { labelDriftReport } from '../domain/drift';
import { joinFeedback, unjoinedReasons } from '../domain/feedback-join';
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
  /** Predictions logged since `since`: Azure ML deployments log to Blob (score.py), the built-in endpoint to the registry. */
  const loggedSince = (model: string, deployment: ModelSpec['deployment'] | undefined, since: string) =>
    deployment?.target === 'azureml' ? azureMl(deployment.workspace).requestLog(model, new Date(since)) : registry.predictionsSince(model, since);

  return {
    async computeMonitoringReport(input: MonitoringReportInput): Promise<MonitoringReportResult> {
      const ctx = Context.current();
      const deployment = await registry.activeDeployment(input.model);
      if (!deployment) {
        return {
          reportKey: null,
          version: null,
          degraded: false,
          reasons: [`${input.model} is not deployed: nothing to monitor`],
          predictions: 0,
          feedback: 0,
          psi: null,
          feedbackAccuracy: null,
        };
      }
      const mv = await registry.getModelVersion(input.model, deployment.version);
      const runDir = store.keyOf(mv!.artifactUri);
      const evaluation = JSON.parse((await store.get(`${artifactLayout.evaluation(runDir)}/evaluation.json`)).toString('utf8')) as EvaluationFile;
      const since = deployment.deployedAt;
      const logged = await loggedSince(input.model, input.deployment, since);
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

      // Only this version's predictions: a request an earlier version served says nothing about this one.
      const join = joinFeedback(feedback, predictions);
      const judged = join.joined.length + join.textOnly.length;
      const feedbackBasis = {
        joinedByRequestId: join.joined.length,
        rescored: join.textOnly.length,
        unmatchedRequestIds: join.unmatched.length,
        ambiguousRequestIds: join.ambiguous.length,
      };
      let feedbackAccuracy: number | null = null;
      if (judged >= m.minFeedback) {
        let correct = join.joined.filter(({ feedback: f, served }) => served.label === f.label).length;
        if (join.textOnly.length) {
          const scorer = await loadScorer(await store.localFolder(runDir));
          try {
            const texts = join.textOnly.map((f) => normalizeText(f.text ?? ''));
            const scored = await scoreAll(scorer, texts, (n) => ctx.heartbeat(`feedback ${n}/${texts.length}`));
            correct += scored.filter((p, i) => p.label === join.textOnly[i]!.label).length;
          } finally {
            await scorer.close();
          }
        }
        feedbackAccuracy = correct / judged;
        const basis = `accuracy on ${judged} feedback rows (${join.joined.length} joined by request id to what was served, ${join.textOnly.length} re-scored) is ${(feedbackAccuracy * 100).toFixed(1)}%`;
        if (feedbackAccuracy < m.minFeedbackAccuracy) {
          degraded = true;
          reasons.push(`${basis}, below the spec's ${(m.minFeedbackAccuracy * 100).toFixed(1)}%`);
        } else {
          reasons.push(basis);
        }
      } else {
        const leftOut = feedback.length - judged;
        reasons.push(
          `accuracy not judged: ${judged} feedback rows since deployment${leftOut ? ` (${leftOut} more left out, below)` : ''}, fewer than ${m.minFeedback}`,
        );
      }
      reasons.push(...unjoinedReasons(join, { version: deployment.version, since }));

      // The scheduled run's workflow id is unique per firing: a retried activity rewrites the same report.
      const reportKey = artifactLayout.monitoringReport(input.model, ctx.info.workflowExecution?.workflowId ?? ctx.info.activityId);
      const windowEnd = new Date().toISOString();
      const report = {
        model: input.model,
        version: deployment.version,
        windowStart: since,
        windowEnd,
        degraded,
        reasons,
        predictions: predictions.length,
        feedback: feedback.length,
        feedbackBasis,
        drift,
        feedbackAccuracy,
        thresholds: m,
      };
      await store.put(reportKey, JSON.stringify(report, null, 2));
      await registry.saveMonitoringReport({ model: input.model, version: deployment.version, windowStart: since, windowEnd, report, degraded, reportKey });
      log.info('monitoring report', { model: input.model, degraded, reasons });
      return {
        reportKey,
        version: deployment.version,
        degraded,
        reasons,
        predictions: predictions.length,
        feedback: feedback.length,
        psi: drift?.psi ?? null,
        feedbackAccuracy,
      };
    },

    /**
     * Feedback since the live version was deployed, as training rows for the next generation.
     * A row naming a request trains on the text that was served (the analyst's copy may not be
     * clean); one whose request is not in the log keeps its own text, or is skipped without one.
     */
    async exportFeedbackData(input: { model: string; generation: number; deployment?: ModelSpec['deployment'] }): Promise<{ key: string; rows: number }> {
      const deployment = await registry.activeDeployment(input.model);
      const feedback = deployment ? await registry.feedbackSince(input.model, deployment.deployedAt) : [];
      // Any version's log: for training, the text matters, not which version served it.
      const logged = deployment && feedback.some((f) => f.requestId) ? await loggedSince(input.model, input.deployment, deployment.deployedAt) : [];
      const join = joinFeedback(feedback, logged);
      const served = new Map(join.joined.map((j) => [j.feedback, j.served.text]));
      const rows = feedback.flatMap((f) => {
        const text = served.get(f) ?? f.text;
        return text ? [JSON.stringify({ text, label: f.label })] : [];
      });
      const skipped = feedback.length - rows.length;
      if (skipped) log.warn('feedback rows without a text or a logged request left out of the training data', { model: input.model, skipped });
      const key = artifactLayout.feedback(input.model, input.generation);
      await store.put(key, rows.join('\n') + (rows.length ? '\n' : ''));
      return { key, rows: rows.length };
    },
  };
}
