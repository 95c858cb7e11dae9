import { describe, expect, it } from 'vitest';
import { monitoringGaugeValues, type MonitoringSnapshot } from './monitoring-gauges';

const feature = (name: string, over: Record<string, unknown> = {}) => ({
  feature: name,
  title: name,
  kind: 'input',
  type: 'numeric',
  test: 'wasserstein',
  value: 0.04,
  threshold: 0.1,
  p: 0.3,
  adjustedP: 0.6,
  effect: 0.04,
  effectThreshold: 0.1,
  psi: 0.01,
  referenceRows: 2000,
  currentRows: 1500,
  drifted: false,
  ...over,
});

const snapshot = (report: Record<string, unknown>, over: Partial<MonitoringSnapshot> = {}): MonitoringSnapshot => ({
  model: 'thai-sentiment',
  version: 3,
  windowEnd: '2026-11-29T10:00:00.000Z',
  degraded: false,
  report,
  ...over,
});

const byName = (values: ReturnType<typeof monitoringGaugeValues>) =>
  Object.fromEntries(values.map((v) => [`${v.name}${v.labels.feature ? `/${v.labels.feature}` : ''}${v.labels.test ? `/${v.labels.test}` : ''}`, v.value]));

describe('monitoringGaugeValues', () => {
  it('turns a current report into gauges labelled by model and version', () => {
    const values = monitoringGaugeValues(
      snapshot(
        {
          schema: 'mlc.monitoring-report/2',
          predictions: 1500,
          breached: true,
          features: [feature('text_chars', { test: 'ks', value: 0.001, effect: 0.31, psi: 0.4, drifted: true }), feature('max_probability')],
          drift: { psi: 0.12 },
          embedding: { auc: 0.71, mmd2: 0.02, drifted: true },
          performance: {
            estimated: { rows: 1500, accuracy: { value: 0.74, lower: 0.72, upper: 0.76 }, macroF1: { value: 0.61, lower: 0.58, upper: 0.64 }, perClassF1: {} },
            realized: { accuracy: 0.7, macroF1: 0.6, rows: 40 },
          },
        },
        { degraded: true },
      ),
    );
    expect(values.every((v) => v.labels.model === 'thai-sentiment' && v.labels.version === '3')).toBe(true);
    expect(byName(values)).toEqual({
      mlc_monitoring_window_end_timestamp_seconds: Date.parse('2026-11-29T10:00:00.000Z') / 1000,
      mlc_monitoring_window_predictions: 1500,
      mlc_monitoring_degraded: 1,
      mlc_monitoring_breached: 1,
      mlc_monitoring_estimated_accuracy: 0.74,
      mlc_monitoring_estimated_accuracy_lower: 0.72,
      mlc_monitoring_estimated_accuracy_upper: 0.76,
      mlc_monitoring_estimated_macro_f1: 0.61,
      mlc_monitoring_realized_accuracy: 0.7,
      mlc_monitoring_drifted_features: 1,
      'mlc_monitoring_feature_drifted/text_chars': 1,
      'mlc_monitoring_feature_drift_statistic/text_chars/ks': 0.001,
      'mlc_monitoring_feature_drift_effect/text_chars': 0.31,
      'mlc_monitoring_feature_psi/text_chars': 0.4,
      'mlc_monitoring_feature_drifted/max_probability': 0,
      'mlc_monitoring_feature_drift_statistic/max_probability/wasserstein': 0.04,
      'mlc_monitoring_feature_drift_effect/max_probability': 0.04,
      'mlc_monitoring_feature_psi/max_probability': 0.01,
      mlc_monitoring_label_psi: 0.12,
      mlc_monitoring_embedding_drift_auc: 0.71,
      mlc_monitoring_embedding_mmd2: 0.02,
      mlc_monitoring_embedding_drifted: 1,
    });
  });

  it('gives what an older report has and nothing it lacks', () => {
    // A report from before the current schema: label drift and feedback accuracy only.
    const values = monitoringGaugeValues(snapshot({ drift: { psi: 0.3 }, feedbackAccuracy: 0.8, predictions: 'many' }));
    expect(byName(values)).toEqual({
      mlc_monitoring_window_end_timestamp_seconds: Date.parse('2026-11-29T10:00:00.000Z') / 1000,
      mlc_monitoring_degraded: 0,
      mlc_monitoring_realized_accuracy: 0.8,
      mlc_monitoring_label_psi: 0.3,
    });
  });

  it('leaves out figures that are not finite numbers, rather than exporting NaN', () => {
    const values = monitoringGaugeValues(
      snapshot({ performance: { estimated: { accuracy: { value: NaN, lower: null, upper: 0.9 } } } }, { windowEnd: 'not a date' }),
    );
    expect(byName(values)).toEqual({ mlc_monitoring_degraded: 0, mlc_monitoring_estimated_accuracy_upper: 0.9 });
  });
});
