// One monitoring window judged against its reference: input and output drift, predicted-label
// PSI (the spec's threshold, as before), and CBPE's estimated accuracy. Says whether the window
// breached, in sentences that name each test, its value, its threshold and what moved. Pure.
import { labelDriftReport, type LabelDriftReport } from '../drift';
import { estimatePerformance, type Calibrator, type PerformanceEstimate } from './cbpe';
import { DEFAULT_DRIFT_OPTIONS, describeDrift, movedMost, testFeatures, type DriftOptions, type FeatureDrift, type FeatureSample } from './drift-tests';
import { embeddingDrift, type EmbeddingDrift } from './embedding-drift';
import { numericFeatures, type WindowSummary } from './features';

/** What evaluation keeps for monitoring: the test split summarized as a window, and the calibrator. */
export interface MonitoringReference {
  summary: WindowSummary;
  calibrator: Calibrator;
  /** Realized accuracy and macro-F1 on the test split, and CBPE's estimate on it (a sanity check). */
  testAccuracy: number;
  testMacroF1: number;
  estimatedTestAccuracy: number | null;
}

/**
 * Without monitoring.minEstimatedAccuracy, retraining is asked for when the estimate's whole
 * band falls this far below the accuracy measured on the test split: a drop the model's own
 * evaluation would have failed, not the noise of one window.
 */
export const DEFAULT_ACCURACY_DROP = 0.1;

export interface WindowThresholds {
  /** Predicted-label PSI at or above this is drift (the spec's psiThreshold). */
  psiThreshold: number;
  /** Don't judge drift or estimates below this many predictions. */
  minPredictions: number;
  /** Estimated accuracy whose whole band lies below this is degradation. */
  minEstimatedAccuracy: number;
}

export interface WindowVerdict {
  judged: boolean;
  breached: boolean;
  features: FeatureDrift[];
  labelDrift: LabelDriftReport | null;
  performance: PerformanceEstimate | null;
  /** Drift of the encoder's representation; null when either side logged too few embeddings. */
  embedding: EmbeddingDrift | null;
  /** The feature that moved most (drifted or not), for the summary line. */
  movedMost: string | null;
  /** One sentence per test that fired. */
  firedBy: string[];
  /** Sentences on what was measured and did not fire, or why nothing was judged. */
  notes: string[];
  duplicateRate: number;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** Numeric features of the model plus the predicted label, each with both sides' data. */
export function featureSamples(reference: WindowSummary, current: WindowSummary, labels: readonly string[]): FeatureSample[] {
  const numeric = numericFeatures(labels).map((definition) => ({
    definition,
    reference: reference.numeric[definition.id] ?? [],
    current: current.numeric[definition.id] ?? [],
  }));
  return [
    ...numeric,
    {
      definition: { id: 'predicted_label', kind: 'output', title: 'predicted label', scale: 1, unit: 'label' },
      reference: reference.labels,
      current: current.labels,
      categorical: true,
    },
  ];
}

export function judgeWindow(
  reference: MonitoringReference,
  current: WindowSummary,
  labels: readonly string[],
  thresholds: WindowThresholds,
  options: DriftOptions = DEFAULT_DRIFT_OPTIONS,
): WindowVerdict {
  const duplicateRate = current.rows ? (current.rows - current.distinctTexts) / current.rows : 0;
  if (current.rows < thresholds.minPredictions) {
    return {
      judged: false,
      breached: false,
      features: [],
      labelDrift: null,
      performance: null,
      embedding: null,
      movedMost: null,
      firedBy: [],
      notes: [`drift and estimated accuracy not judged: ${current.rows} predictions in the window, fewer than ${thresholds.minPredictions}`],
      duplicateRate,
    };
  }
  const features = testFeatures(featureSamples(reference.summary, current, labels), options);
  const firedBy = features.filter((f) => f.drifted).map(describeDrift);
  const notes: string[] = [];
  const mover = movedMost(features);
  if (!firedBy.length) {
    notes.push(
      `no input or output drift: ${features.length} features tested (Benjamini–Hochberg at 5%)` +
        (mover ? `; "${mover.title}" moved most (${mover.type === 'numeric' ? 'normed Wasserstein' : 'Jensen–Shannon'} ${mover.effect.toFixed(3)})` : ''),
    );
  }

  const labelDrift = labelDriftReport(reference.summary.labels, current.labels, { psi: thresholds.psiThreshold, jsDistance: null, chiSquareP: null });
  if (labelDrift.drifted) firedBy.push(...labelDrift.firedBy);
  else notes.push(`predicted-label PSI ${labelDrift.psi.toFixed(3)} is below ${thresholds.psiThreshold} over ${current.rows} predictions`);

  const embedding = judgeEmbeddings(reference.summary, current, firedBy, notes);

  const performance = estimatePerformance(current, labels, reference.calibrator);
  if (performance) {
    const a = performance.accuracy;
    const line = `estimated accuracy (CBPE, ${reference.calibrator.kind} calibration) ${pct(a.value)} [${pct(a.lower)} – ${pct(a.upper)}], estimated macro-F1 ${pct(performance.macroF1.value)}`;
    if (a.upper < thresholds.minEstimatedAccuracy) {
      firedBy.push(`${line}: the whole 95% band is below ${pct(thresholds.minEstimatedAccuracy)}, with no labels needed.`);
    } else notes.push(`${line}; the threshold is ${pct(thresholds.minEstimatedAccuracy)}`);
  }
  return {
    judged: true,
    breached: firedBy.length > 0,
    features,
    labelDrift,
    performance,
    embedding,
    movedMost: mover?.feature ?? null,
    firedBy,
    notes,
    duplicateRate,
  };
}

/** Fewer embeddings than this a side, and the domain classifier's AUC means little: not judged. */
export const MIN_EMBEDDINGS = 50;

function judgeEmbeddings(reference: WindowSummary, current: WindowSummary, firedBy: string[], notes: string[]): EmbeddingDrift | null {
  const [r, c] = [reference.embeddings?.length ?? 0, current.embeddings?.length ?? 0];
  if (r < MIN_EMBEDDINGS || c < MIN_EMBEDDINGS) {
    notes.push(
      `embedding drift not judged: ${r} reference and ${c} current embeddings sampled, fewer than ${MIN_EMBEDDINGS} a side` +
        (r === 0 ? ' (the version was evaluated without an embedding output)' : c === 0 ? ' (the window logged no embeddings)' : ''),
    );
    return null;
  }
  const d = embeddingDrift(reference.embeddings!, current.embeddings!);
  const baseline = d.aucP !== undefined ? `, shuffled-label p ${d.aucP.toFixed(3)}` : '';
  const figures =
    `domain-classifier ROC AUC ${d.auc.toFixed(3)} (threshold ${d.aucThreshold}${baseline}; ${d.referenceRows} vs ${d.currentRows} rows, ` +
    `${d.dimensions} dimensions), MMD² ${d.mmd2.toFixed(4)} (permutation p ${d.mmdP.toFixed(3)})`;
  if (d.drifted) firedBy.push(`embedding drift: a classifier tells this window's texts from the test split's by their encoder representation, ${figures}.`);
  else notes.push(`no embedding drift: ${figures}`);
  return d;
}
