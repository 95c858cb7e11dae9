// monitor: turn the predictions the endpoint logged and the feedback analysts sent into a
// report on the live version's latest window — drift of its inputs and outputs against the test
// split, CBPE's estimated accuracy, accuracy on labelled feedback — say plainly which test
// fired, and ask for a retrain only after `monitoring.consecutive` windows in a row breached
// (past windows are the registry's monitoring reports). The window is aggregated where the
// predictions live (SQL, or a fold over Azure ML's request log), never loaded row by row.
// Feedback that names a request id is judged against the logged prediction (what was served);
// feedback with only a text is re-scored with the live version.
import { Context, log } from '@temporalio/activity';
import { artifactLayout } from '../domain/artifact-layout';
import { joinFeedback, unjoinedReasons } from '../domain/feedback-join';
import { decideRetrain, windowStartAfter } from '../domain/monitoring/decision';
import {
  MONITORING_REPORT_SCHEMA,
  driftPlots,
  readStoredReport,
  summarizeStoredReport,
  trendPoint,
  type MonitoringReport,
  type MonitoringRunSummary,
} from '../domain/monitoring/report';
import { DEFAULT_ACCURACY_DROP, type judgeWindow, type WindowVerdict } from '../domain/monitoring/window';
import { modelSpecSchema, type ModelSpec } from '../domain/spec';
import { callInThread } from '../adapters/threads/call-in-thread';
import { moduleBeside } from '../adapters/threads/start-thread';
import type { ActivityDeps } from './deps';
import { alertWebhookUrl, sendAlert } from './monitoring-alert';
import { renderMonitoringPage } from './monitoring-page';
import { judgeFeedback } from './monitoring-feedback';
import { readReference, readWindow } from './monitoring-window';

export interface MonitoringReportInput {
  model: string;
  labels: string[];
  monitoring: ModelSpec['monitoring'];
  deployment?: ModelSpec['deployment'];
}

export interface MonitoringReportResult {
  reportKey: string | null;
  /** The report's page (self-contained HTML beside the JSON). */
  pageKey: string | null;
  version: number | null;
  /** Enough windows in a row breached: the workflow asks for a retrain. */
  degraded: boolean;
  /** This window crossed a threshold. */
  breached: boolean;
  reasons: string[];
  predictions: number;
  feedback: number;
  psi: number | null;
  feedbackAccuracy: number | null;
  estimatedAccuracy: number | null;
  driftedFeatures: string[];
  /** Whether the alert webhook got the report (only degraded reports are sent). */
  alert: 'sent' | 'failed' | 'not configured' | 'not needed';
}

/** Past windows read for the decision and the trend; a Schedule at 1h keeps about two days. */
const PAST_WINDOWS = 50;

/**
 * The window's drift tests and estimate, in a thread of their own: the embedding tests alone
 * take seconds of arithmetic, which on the worker's event loop would stall heartbeats, other
 * activities and, in a one-process deployment, the endpoint (which sheds requests then).
 */
const WINDOW_MODULE = moduleBeside(import.meta.url, '../domain/monitoring/window');
const judgeWindowInThread = (...args: Parameters<typeof judgeWindow>) => callInThread<WindowVerdict>(WINDOW_MODULE, 'judgeWindow', args);

export function monitoringActivities(deps: ActivityDeps) {
  const { store, registry, azureMl, config } = deps;
  /**
   * Predictions of any version served under these request ids since `since`: Azure ML deployments
   * log to Blob (score.py), read through and filtered; the built-in endpoint to the registry, asked for just those ids.
   */
  async function servedUnder(model: string, deployment: ModelSpec['deployment'] | undefined, requestIds: string[], since: string) {
    if (deployment?.target !== 'azureml') return registry.predictionsByRequestIds({ model, requestIds, since });
    const wanted = new Set(requestIds);
    return (await azureMl(deployment.workspace).requestLog(model, new Date(since))).filter((p) => wanted.has(p.requestId));
  }

  return {
    async computeMonitoringReport(input: MonitoringReportInput): Promise<MonitoringReportResult> {
      const ctx = Context.current();
      const deployment = await registry.activeDeployment(input.model);
      if (!deployment) {
        return {
          reportKey: null,
          pageKey: null,
          version: null,
          degraded: false,
          breached: false,
          reasons: [`${input.model} is not deployed: nothing to monitor`],
          predictions: 0,
          feedback: 0,
          psi: null,
          feedbackAccuracy: null,
          estimatedAccuracy: null,
          driftedFeatures: [],
          alert: 'not needed',
        };
      }
      // A lifecycle started before a field existed passes a spec without it: its default applies.
      const m = modelSpecSchema.shape.monitoring.parse(input.monitoring);
      const version = deployment.version;
      const mv = await registry.getModelVersion(input.model, version);
      const runDir = store.keyOf(mv!.artifactUri);
      const reference = await readReference(store, runDir, input.labels);
      // The scheduled run's workflow id is unique per firing: a retried activity rewrites the same report, over the same window.
      const runId = ctx.info.workflowExecution?.workflowId ?? ctx.info.activityId;
      const reportKey = artifactLayout.monitoringReport(input.model, runId);
      const pageKey = artifactLayout.monitoringPage(input.model, runId);
      const stored = await registry.monitoringReports(input.model, PAST_WINDOWS + 1);
      const again = stored.find((r) => r.reportKey === reportKey);
      const past = stored.filter((r) => r.reportKey !== reportKey).map(readStoredReport);
      const windowStart = again?.windowStart ?? windowStartAfter(past, version, deployment.deployedAt);
      const windowEnd = again?.windowEnd ?? new Date().toISOString();

      const feedback = await registry.feedbackSince(input.model, deployment.deployedAt);
      const requestIds = feedback.flatMap((f) => (f.requestId ? [f.requestId] : []));
      const window = await readWindow(
        deps,
        { model: input.model, version, from: windowStart, to: windowEnd, labels: input.labels, deployedAt: deployment.deployedAt, requestIds },
        input.deployment,
      );
      const minEstimatedAccuracy = m.minEstimatedAccuracy ?? Math.max(0, reference.testAccuracy - DEFAULT_ACCURACY_DROP);
      const verdict = await judgeWindowInThread(reference, window.summary, input.labels, {
        psiThreshold: m.psiThreshold,
        minPredictions: m.minPredictions,
        minEstimatedAccuracy,
      });

      // Only this version's predictions: a request an earlier version served says nothing about this one.
      const fb = await judgeFeedback(deps, { labels: input.labels, minFeedback: m.minFeedback, runDir }, feedback, window.served, (n) =>
        ctx.heartbeat(`feedback ${n}`),
      );
      const firedBy = [...verdict.firedBy];
      const notes = [...verdict.notes];
      if (fb.realized) {
        const basis = `accuracy on ${fb.judged} feedback rows (${fb.join.joined.length} joined by request id to what was served, ${fb.join.textOnly.length} re-scored) is ${(fb.realized.accuracy * 100).toFixed(1)}%`;
        if (fb.realized.accuracy < m.minFeedbackAccuracy) firedBy.push(`${basis}, below the spec's ${(m.minFeedbackAccuracy * 100).toFixed(1)}%`);
        else notes.push(basis);
      } else {
        const leftOut = feedback.length - fb.judged;
        notes.push(
          `accuracy not judged: ${fb.judged} feedback rows since deployment${leftOut ? ` (${leftOut} more left out, below)` : ''}, fewer than ${m.minFeedback}`,
        );
      }
      notes.push(...unjoinedReasons(fb.join, { version, since: deployment.deployedAt }));

      const judged = verdict.judged || fb.realized !== null;
      const breached = firedBy.length > 0;
      const decision = decideRetrain({ judged, breached, version }, past, m.consecutive);
      const mover = verdict.features.find((f) => f.feature === verdict.movedMost);
      const moverLine = mover ? [`the feature that moved most: "${mover.title}" (${mover.feature})${mover.drifted ? '' : ', within its threshold'}`] : [];
      const reasons = decision.degraded ? [decision.reason, ...firedBy, ...moverLine] : [...firedBy, ...(breached ? [decision.reason] : []), ...notes];
      const report: MonitoringReport = {
        schema: MONITORING_REPORT_SCHEMA,
        model: input.model,
        version,
        windowStart,
        windowEnd,
        source: window.source,
        predictions: window.summary.rows,
        feedback: feedback.length,
        feedbackBasis: fb.basis,
        judged,
        driftJudged: verdict.judged,
        breached,
        degraded: decision.degraded,
        decision,
        reasons,
        firedBy,
        notes,
        multipleTesting: 'Benjamini–Hochberg (false-discovery rate 5%)',
        features: verdict.features,
        embedding: verdict.embedding,
        movedMost: verdict.movedMost,
        drift: verdict.labelDrift,
        performance: {
          estimated: verdict.performance,
          realized: fb.realized,
          threshold: minEstimatedAccuracy,
          calibrator:
            reference.calibrator.kind === 'isotonic'
              ? { kind: 'isotonic', eceBefore: reference.calibrator.eceBefore, eceAfter: reference.calibrator.eceAfter }
              : { kind: 'identity', why: reference.calibrator.why },
          reference: { testAccuracy: reference.testAccuracy, estimatedTestAccuracy: reference.estimatedTestAccuracy },
        },
        feedbackAccuracy: fb.realized?.accuracy ?? null,
        inputs: {
          duplicateRate: verdict.duplicateRate,
          referenceDuplicateRate: reference.summary.rows ? (reference.summary.rows - reference.summary.distinctTexts) / reference.summary.rows : 0,
          emptyTexts: window.summary.emptyTexts,
        },
        plots: driftPlots(verdict.features, reference.summary, window.summary, verdict.embedding),
        trend: [
          ...past
            .filter((p) => p.version === version)
            .slice(0, 20)
            .reverse()
            .map(trendPoint),
          trendPoint({
            windowEnd,
            version,
            predictions: window.summary.rows,
            estimatedAccuracy: verdict.performance?.accuracy.value ?? null,
            realizedAccuracy: fb.realized?.accuracy ?? null,
            drifted: verdict.features.filter((f) => f.drifted).length,
            breached,
            degraded: decision.degraded,
          }),
        ],
        thresholds: { ...m, minEstimatedAccuracy },
      };
      await store.put(reportKey, JSON.stringify(report, null, 2));
      await store.put(pageKey, renderMonitoringPage(report));
      await registry.saveMonitoringReport({
        model: input.model,
        version,
        windowStart,
        windowEnd,
        report: report as unknown as Record<string, unknown>,
        degraded: decision.degraded,
        reportKey,
      });
      const alert = decision.degraded ? await sendAlert(alertWebhookUrl(config), report, reportKey) : 'not needed';
      log.info('monitoring report', { model: input.model, degraded: decision.degraded, breached, reasons, page: store.uriOf(pageKey), alert });
      return {
        reportKey,
        pageKey,
        version,
        degraded: decision.degraded,
        breached,
        reasons,
        predictions: window.summary.rows,
        feedback: feedback.length,
        psi: verdict.labelDrift?.psi ?? null,
        feedbackAccuracy: fb.realized?.accuracy ?? null,
        estimatedAccuracy: verdict.performance?.accuracy.value ?? null,
        driftedFeatures: [...verdict.features.filter((f) => f.drifted).map((f) => f.feature), ...(verdict.embedding?.drifted ? ['embedding'] : [])],
        alert,
      };
    },

    /** The model's monitoring runs, newest first, as the trend view and `mlc status` show them. */
    async listMonitoringReports(input: { model: string; limit?: number }): Promise<MonitoringRunSummary[]> {
      const stored = await registry.monitoringReports(input.model, Math.min(Math.max(1, input.limit ?? 20), 500));
      return stored.map(summarizeStoredReport);
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
      const ids = feedback.flatMap((f) => (f.requestId ? [f.requestId] : []));
      const logged = deployment && ids.length ? await servedUnder(input.model, input.deployment, ids, deployment.deployedAt) : [];
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
