// Scoring a trained model outside PyTorch: tokenizer.json + model.onnx from a run folder.

export interface Prediction {
  label: string;
  /** Probability of each label, in the model's label order. */
  probabilities: Record<string, number>;
}

/** Why a text got a label: how much each readable piece of it pushed that label's probability. */
export interface TokenAttribution {
  label: string;
  /** The label's probability on the whole text. */
  probability: number;
  /**
   * The text as the model read it, piece by piece. weight: the label's probability on the
   * whole text minus its probability with this piece left out (positive: the piece supported
   * the label). Null for pieces past the model's maximum length, which it never read.
   */
  tokens: { text: string; weight: number | null }[];
}

export interface Scorer {
  readonly labels: string[];
  /** What runs the model, with its version ("onnxruntime-node 1.30.0"), for the audit's lineage. */
  readonly runtime?: string;
  predict(texts: string[]): Promise<Prediction[]>;
  /**
   * Leave-one-token-out attribution of `label` on one text: the text scored once whole and
   * once per token left out, in batches. Optional: a scorer that cannot see tokens (a fake, a
   * remote endpoint) leaves it out, and the audit page says so.
   */
  explain?(text: string, label: string): Promise<TokenAttribution>;
  close(): Promise<void>;
}

/** Loads labels.json, tokenizer files and model.onnx from a local folder; never from a hub. */
export type LoadScorer = (modelDir: string, options?: { maxLength?: number; batchSize?: number }) => Promise<Scorer>;
