// fp32 next to int8 on the test split, for the model card: the training job writes both ONNX
// files and the spec picks the one deployed (serving.precision), so the auditor sees what the
// choice costs in accuracy and buys in speed, measured on the same texts in the same activity.
import { ModelFileMissingError } from '../adapters/scoring/errors';
import type { LoadScorer, PredictOptions, Prediction, Scorer } from '../adapters/scoring/port';
import type { ServingPrecision } from '../domain/artifact-layout';
import { servingPrecisions } from '../domain/artifact-layout';
import { classificationReport } from '../domain/metrics';
import { scoreAll } from './scoring-helpers';

export interface PrecisionResult {
  precision: ServingPrecision;
  /** The one the spec chose: its predictions are the evaluation's. */
  served: boolean;
  accuracy: number;
  macro_f1: number;
  /** Test texts scored per second by the Node scorer (batches of 32) on the evaluating worker. */
  textsPerSecond: number;
  /** Share of test texts given the same label as the served model. */
  agreement: number;
}

// Not timed: the first batches pay for onnxruntime's lazy initialisation and the caches.
const WARMUP_TEXTS = 64;

/**
 * What evaluation asks of every pass it times: token stats and, where the file has the output,
 * the projected embedding (monitoring's reference needs both; bench/scoring.ts measured their
 * cost at 1.02–1.03×). Every precision is timed with the same options, so they compare fairly.
 */
export const observedScoring = (scorer: Scorer): PredictOptions => ({ tokenStats: true, embeddings: scorer.embeddings === true });

/** Scores `texts` with the scorer, timing the whole pass after a short warm-up. */
export async function timedScoring(
  scorer: Scorer,
  texts: string[],
  onProgress: (done: number) => void,
  options: PredictOptions = {},
): Promise<{ predictions: Prediction[]; seconds: number }> {
  await scorer.predict(texts.slice(0, WARMUP_TEXTS), options);
  const started = performance.now();
  const predictions = await scoreAll(scorer, texts, onProgress, undefined, options);
  return { predictions, seconds: (performance.now() - started) / 1000 };
}

/**
 * Each precision the run folder has, scored on the test split. `served` was scored already (the
 * evaluation's own pass, timed the same way) and is only summarised; a precision whose file the
 * folder lacks (runs from before int8) is left out.
 */
export async function comparePrecisions(
  loadScorer: LoadScorer,
  modelDir: string,
  test: { texts: string[]; truth: string[]; labels: string[] },
  served: { precision: ServingPrecision; predictions: Prediction[]; seconds: number },
  onProgress: (precision: ServingPrecision, done: number) => void,
): Promise<PrecisionResult[]> {
  const servedLabels = served.predictions.map((p) => p.label);
  const summarise = (precision: ServingPrecision, predictions: Prediction[], seconds: number): PrecisionResult => {
    const predicted = predictions.map((p) => p.label);
    const report = classificationReport(test.labels, test.truth, predicted);
    return {
      precision,
      served: precision === served.precision,
      accuracy: report.accuracy,
      macro_f1: report.macro_f1,
      textsPerSecond: seconds > 0 ? test.texts.length / seconds : 0,
      agreement: predicted.length ? predicted.filter((l, i) => l === servedLabels[i]).length / predicted.length : 1,
    };
  };
  const results: PrecisionResult[] = [];
  for (const precision of servingPrecisions) {
    if (precision === served.precision) {
      results.push(summarise(precision, served.predictions, served.seconds));
      continue;
    }
    let scorer: Scorer;
    try {
      scorer = await loadScorer(modelDir, { precision });
    } catch (error) {
      if (error instanceof ModelFileMissingError) continue;
      throw error;
    }
    if (scorer.precision !== precision) {
      await scorer.close(); // a scorer that is not an ONNX file (a fake) cannot compare precisions
      continue;
    }
    try {
      const { predictions, seconds } = await timedScoring(scorer, test.texts, (done) => onProgress(precision, done), observedScoring(scorer));
      results.push(summarise(precision, predictions, seconds));
    } finally {
      await scorer.close();
    }
  }
  return results;
}
