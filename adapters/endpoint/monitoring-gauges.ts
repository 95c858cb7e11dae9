// The last monitoring run of each model as Prometheus gauge values: drift statistics per
// feature, embedding drift, label PSI and the label-free accuracy estimate (CBPE), read from the
// report as the registry stores it. Pure, so a report of an older schema (fields missing) is
// tested to give fewer gauges, never a wrong one. metrics.ts sets them at scrape time.
import type { MonitoringReport } from '../../domain/monitoring/report';

/** A model's latest stored monitoring report, as workers/serving.ts reads it from the registry. */
export interface MonitoringSnapshot {
  model: string;
  version: number;
  windowEnd: string;
  degraded: boolean;
  report: Record<string, unknown>;
}

export type GaugeName = keyof typeof MONITORING_GAUGES;

export interface GaugeValue {
  name: GaugeName;
  labels: Record<string, string>;
  value: number;
}

/** Every gauge, with its help text and labels besides model and version. */
export const MONITORING_GAUGES = {
  mlc_monitoring_window_end_timestamp_seconds: { help: 'End of the last monitoring window (Unix seconds).', labels: [] },
  mlc_monitoring_window_predictions: { help: 'Predictions in the last monitoring window.', labels: [] },
  mlc_monitoring_breached: { help: 'Whether the last window crossed a threshold (1) or not (0).', labels: [] },
  mlc_monitoring_degraded: { help: 'Whether the last run asked for a retrain (1: enough windows in a row breached) or not (0).', labels: [] },
  mlc_monitoring_estimated_accuracy: { help: 'Accuracy of the last window estimated without labels (CBPE).', labels: [] },
  mlc_monitoring_estimated_accuracy_lower: { help: "Lower end of the CBPE accuracy estimate's 95% band.", labels: [] },
  mlc_monitoring_estimated_accuracy_upper: { help: "Upper end of the CBPE accuracy estimate's 95% band.", labels: [] },
  mlc_monitoring_estimated_macro_f1: { help: 'Macro-F1 of the last window estimated without labels (CBPE).', labels: [] },
  mlc_monitoring_realized_accuracy: { help: 'Accuracy on labelled feedback since the deployment.', labels: [] },
  mlc_monitoring_drifted_features: { help: 'Features judged drifted in the last window.', labels: [] },
  mlc_monitoring_feature_drifted: { help: 'Whether a feature drifted in the last window (1) or not (0).', labels: ['feature'] },
  mlc_monitoring_feature_drift_statistic: {
    help: 'The deciding test of a feature: a p-value (test="ks"|"chi_square") or a distance (test="wasserstein"|"jensen_shannon").',
    labels: ['feature', 'test'],
  },
  mlc_monitoring_feature_drift_effect: { help: "A feature's effect size: normed Wasserstein or Jensen-Shannon distance.", labels: ['feature'] },
  mlc_monitoring_feature_psi: { help: "A feature's population stability index against the reference.", labels: ['feature'] },
  mlc_monitoring_label_psi: { help: 'Population stability index of the predicted labels against the test split.', labels: [] },
  mlc_monitoring_embedding_drift_auc: { help: 'ROC AUC of the domain classifier telling the window from the reference by embedding.', labels: [] },
  mlc_monitoring_embedding_mmd2: { help: 'MMD^2 between the window and the reference embeddings.', labels: [] },
  mlc_monitoring_embedding_drifted: { help: 'Whether the embeddings drifted in the last window (1) or not (0).', labels: [] },
} as const satisfies Record<string, { help: string; labels: readonly string[] }>;

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const flag = (b: unknown) => (b ? 1 : 0);

/** The gauge values of one model's latest report; a figure the report lacks gives no value. */
export function monitoringGaugeValues(snapshot: MonitoringSnapshot): GaugeValue[] {
  const r = snapshot.report as Partial<MonitoringReport>;
  const base = { model: snapshot.model, version: String(snapshot.version) };
  const out: GaugeValue[] = [];
  const put = (name: GaugeName, value: unknown, labels: Record<string, string> = {}) => {
    if (isNumber(value)) out.push({ name, labels: { ...base, ...labels }, value });
  };

  const end = Date.parse(snapshot.windowEnd);
  put('mlc_monitoring_window_end_timestamp_seconds', Number.isNaN(end) ? undefined : end / 1000);
  put('mlc_monitoring_window_predictions', r.predictions);
  put('mlc_monitoring_degraded', flag(snapshot.degraded));
  if (r.breached !== undefined) put('mlc_monitoring_breached', flag(r.breached));

  const estimated = r.performance?.estimated;
  if (estimated) {
    put('mlc_monitoring_estimated_accuracy', estimated.accuracy?.value);
    put('mlc_monitoring_estimated_accuracy_lower', estimated.accuracy?.lower);
    put('mlc_monitoring_estimated_accuracy_upper', estimated.accuracy?.upper);
    put('mlc_monitoring_estimated_macro_f1', estimated.macroF1?.value);
  }
  put('mlc_monitoring_realized_accuracy', r.performance?.realized?.accuracy ?? r.feedbackAccuracy);

  if (Array.isArray(r.features)) {
    put('mlc_monitoring_drifted_features', r.features.filter((f) => f.drifted).length);
    for (const f of r.features) {
      put('mlc_monitoring_feature_drifted', flag(f.drifted), { feature: f.feature });
      put('mlc_monitoring_feature_drift_statistic', f.value, { feature: f.feature, test: f.test });
      put('mlc_monitoring_feature_drift_effect', f.effect, { feature: f.feature });
      put('mlc_monitoring_feature_psi', f.psi, { feature: f.feature });
    }
  }
  put('mlc_monitoring_label_psi', r.drift?.psi);
  if (r.embedding) {
    put('mlc_monitoring_embedding_drift_auc', r.embedding.auc);
    put('mlc_monitoring_embedding_mmd2', r.embedding.mmd2);
    put('mlc_monitoring_embedding_drifted', flag(r.embedding.drifted));
  }
  return out;
}
