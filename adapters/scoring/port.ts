// Scoring a trained model outside PyTorch: tokenizer.json + model.onnx (or model.int8.onnx) from
// a run folder.
import type { ServingPrecision } from '../../domain/artifact-layout';
import type { TokenStats } from '../../domain/monitoring/features';

export interface Prediction {
  label: string;
  /** Probability of each label, in the model's label order. */
  probabilities: Record<string, number>;
  /**
   * Only when asked for (predict(texts, { embeddings: true })): the model's pooled embedding
   * under the fixed random projection of domain/embedding-projection.ts, 32 numbers. The same
   * text gives the same numbers in evaluation, the endpoint and monitoring.
   */
  embedding?: number[];
  /** Only when asked for (predict(texts, { tokenStats: true })): what monitoring measures of the text's tokens. */
  tokenStats?: TokenStats;
}

export interface PredictOptions {
  /** Add each prediction's projected embedding; costs one more output copy, so off by default. */
  embeddings?: boolean;
  /** Add each text's TokenStats (token count, cut at maxLength, fallback tokens), for logging. */
  tokenStats?: boolean;
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
  /** Which ONNX file it scores with; absent for scorers that are not a model file (fakes, remote). */
  readonly precision?: ServingPrecision;
  /** Whether predict can add embeddings (models exported before the `embedding` output cannot). */
  readonly embeddings?: boolean;
  /** How many predict calls it runs at once (copies side by side); callers may keep that many in flight. Absent: one. */
  readonly concurrency?: number;
  predict(texts: string[], options?: PredictOptions): Promise<Prediction[]>;
  /**
   * Leave-one-token-out attribution of `label` on one text: the text scored once whole and
   * once per token left out, in batches. Optional: a scorer that cannot see tokens (a fake, a
   * remote endpoint) leaves it out, and the audit page says so.
   */
  explain?(text: string, label: string): Promise<TokenAttribution>;
  close(): Promise<void>;
}

export interface LoadScorerOptions {
  maxLength?: number;
  batchSize?: number;
  /**
   * Which ONNX file to score with. Absent: the one the run folder's deploy.json names (the
   * spec's serving.precision), else model.onnx. Evaluation names each to compare them.
   */
  precision?: ServingPrecision;
  /**
   * Threads onnxruntime may use within one call. Absent: one for a small model (an ONNX file
   * under 8 MiB, such as the demo's), onnxruntime's default (one per core) for a larger one; see
   * onnx-scorer.ts. Several scorers of one model side by side (an endpoint's instances) each want
   * a share of the cores.
   */
  intraOpThreads?: number;
}

/** Loads labels.json, tokenizer files and the ONNX model from a local folder; never from a hub. */
export type LoadScorer = (modelDir: string, options?: LoadScorerOptions) => Promise<Scorer>;
