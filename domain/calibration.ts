// Calibration for the audit package: when the model says 90%, is it right nine times in ten?
// An auditor needs this before trusting a threshold on the model's confidence. Pure, so the
// numbers are tested by hand and the page only draws them.
//
// Equal-width bins on (0, 1], as in Guo et al. (2017) "On Calibration of Modern Neural
// Networks": bin b holds confidences in ((b-1)/B, b/B]; a confidence of exactly 0 goes to the
// first bin. The expected calibration error is the row-weighted mean gap between a bin's
// accuracy and its mean confidence: ECE = Σ_b (n_b / n) · |acc_b − conf_b|.

export interface ReliabilityBin {
  lower: number;
  upper: number;
  count: number;
  /** Rows in the bin whose prediction was right. */
  correct: number;
  /** Null for an empty bin: there is nothing to plot. */
  meanConfidence: number | null;
  accuracy: number | null;
}

export interface Calibration {
  bins: ReliabilityBin[];
  /** Expected calibration error, in [0, 1]; 0 on no rows. */
  ece: number;
  /** The largest gap of any non-empty bin (maximum calibration error). */
  mce: number;
  n: number;
}

export class CalibrationInputError extends Error {
  override name = 'CalibrationInputError';
}

/** Reliability bins and ECE of the predicted label's probability against whether it was right. */
export function calibration(confidences: readonly number[], correct: readonly boolean[], binCount = 10): Calibration {
  if (!Number.isInteger(binCount) || binCount < 1) throw new CalibrationInputError(`binCount must be a positive integer, got ${binCount}`);
  if (confidences.length !== correct.length) {
    throw new CalibrationInputError(`${confidences.length} confidences but ${correct.length} outcomes; they must be paired row by row`);
  }
  const sums = Array.from({ length: binCount }, () => ({ count: 0, correct: 0, confidence: 0 }));
  confidences.forEach((c, i) => {
    if (!Number.isFinite(c) || c < 0 || c > 1) throw new CalibrationInputError(`confidence[${i}] is ${c}; probabilities lie in [0, 1]`);
    // The epsilon keeps an edge on its edge: 0.6 × 5 is 3.0000000000000004 in binary.
    const bin = sums[Math.min(binCount - 1, Math.max(0, Math.ceil(c * binCount - 1e-9) - 1))]!;
    bin.count++;
    bin.confidence += c;
    if (correct[i]) bin.correct++;
  });
  const n = confidences.length;
  let ece = 0;
  let mce = 0;
  const bins = sums.map((s, b) => {
    const meanConfidence = s.count ? s.confidence / s.count : null;
    const accuracy = s.count ? s.correct / s.count : null;
    if (meanConfidence !== null && accuracy !== null) {
      const gap = Math.abs(accuracy - meanConfidence);
      ece += (s.count / n) * gap;
      mce = Math.max(mce, gap);
    }
    return { lower: b / binCount, upper: (b + 1) / binCount, count: s.count, correct: s.correct, meanConfidence, accuracy };
  });
  return { bins, ece, mce, n };
}
