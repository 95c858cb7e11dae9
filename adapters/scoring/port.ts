// Scoring a trained model outside PyTorch: tokenizer.json + model.onnx from a run folder.

export interface Prediction {
  label: string;
  /** Probability of each label, in the model's label order. */
  probabilities: Record<string, number>;
}

export interface Scorer {
  readonly labels: string[];
  predict(texts: string[]): Promise<Prediction[]>;
  close(): Promise<void>;
}

/** Loads labels.json, tokenizer files and model.onnx from a local folder; never from a hub. */
export type LoadScorer = (modelDir: string, options?: { maxLength?: number; batchSize?: number }) => Promise<Scorer>;
