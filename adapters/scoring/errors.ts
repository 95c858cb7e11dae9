// What can go wrong loading or running a model folder, as small named classes an activity can
// map to a non-retryable ApplicationFailure (a missing file will not appear by retrying).

export class ScoringError extends Error {
  override name = 'ScoringError';
  constructor(
    message: string,
    readonly modelDir: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A file the scorer needs is not in the model folder; the message says what writes it. */
export class ModelFileMissingError extends ScoringError {
  override name = 'ModelFileMissingError';
  /** Retrying cannot fix it: the activity fails at once (see activities/errors.ts). */
  readonly nonRetryable = true;
  constructor(
    modelDir: string,
    readonly file: string,
    producedBy: string,
    options?: { cause?: unknown },
  ) {
    super(`${file} not found in ${modelDir}. ${producedBy}`, modelDir, options);
  }
}

/** A file is there but not what the scorer expects (bad JSON, wrong shape, wrong inputs). */
export class ModelFormatError extends ScoringError {
  override name = 'ModelFormatError';
  /** Retrying cannot fix it: the activity fails at once (see activities/errors.ts). */
  readonly nonRetryable = true;
  constructor(
    modelDir: string,
    readonly file: string,
    problem: string,
    options?: { cause?: unknown },
  ) {
    super(`${file} in ${modelDir}: ${problem}`, modelDir, options);
  }
}

/** onnxruntime refused a batch (out of memory, corrupt graph discovered late, ...). */
export class InferenceError extends ScoringError {
  override name = 'InferenceError';
}

/** predict() after close(). */
export class ScorerClosedError extends ScoringError {
  override name = 'ScorerClosedError';
  constructor(modelDir: string) {
    super(`the scorer for ${modelDir} is closed; load it again`, modelDir);
  }
}
