// What a monitoring window measures, row by row, and the summary it keeps: histograms per
// feature, predicted-label counts, and the confidence cells CBPE needs. The summary is what
// crosses process boundaries (SQL → worker, evaluation → evaluation.json), so its size does not
// grow with the rows: a million predictions and a test split of two thousand both fit in a
// few thousand numbers. Pure.
//
// Two implementations compute it and must agree: this file's accumulator (the reference at
// evaluation, Azure ML's request log) and the SQL in adapters/db/prediction-window.ts (the
// registry's predictions). The character classes and the rounding below are the contract:
// both sides count code points, and both bin a value v as floor(v · scale + 0.5).
import { seededRandom } from '../random';
import { histogramOf, type Histogram } from './stats';

/**
 * Code-point ranges each share counts. The registry's generated columns are built from the
 * same ranges (scriptPattern), so SQL and this file cannot disagree on what is Thai.
 */
export const SCRIPT_RANGES = {
  thai: [[0x0e00, 0x0e7f]],
  latin: [
    [0x41, 0x5a],
    [0x61, 0x7a],
    [0xc0, 0x24f],
  ],
  digit: [[0x30, 0x39]],
  space: [
    [0x09, 0x0a],
    [0x0d, 0x0d],
    [0x20, 0x20],
  ],
} as const satisfies Record<string, readonly (readonly [number, number])[]>;

export type Script = keyof typeof SCRIPT_RANGES;

/** A bracket expression for the ranges, with \uXXXX escapes (PostgreSQL's and JavaScript's regexes both read them). */
export function scriptPattern(script: Script): string {
  const hex = (c: number) => `\\u${c.toString(16).toUpperCase().padStart(4, '0')}`;
  return `[${SCRIPT_RANGES[script].map(([lo, hi]) => (lo === hi ? hex(lo) : `${hex(lo)}-${hex(hi)}`)).join('')}]`;
}

function inRanges(cp: number, ranges: readonly (readonly [number, number])[]): boolean {
  for (const [lo, hi] of ranges) if (cp >= lo && cp <= hi) return true;
  return false;
}

export type FeatureKind = 'input' | 'output';

export interface FeatureDefinition {
  id: string;
  kind: FeatureKind;
  /** What a person reads in the report. */
  title: string;
  /** Values are stored as round(v · scale) / scale: 1 for counts, 100 for shares, 1000 for probabilities. */
  scale: number;
  unit: string;
}

/** Input features, the same for every model. Shares are of the text's characters; empty texts have none. */
export const INPUT_FEATURES: readonly FeatureDefinition[] = [
  { id: 'chars', kind: 'input', title: 'text length', scale: 1, unit: 'characters' },
  { id: 'thai_share', kind: 'input', title: 'Thai script share', scale: 100, unit: 'share of characters' },
  { id: 'latin_share', kind: 'input', title: 'Latin script share', scale: 100, unit: 'share of characters' },
  { id: 'digit_share', kind: 'input', title: 'digit share', scale: 100, unit: 'share of characters' },
  { id: 'symbol_share', kind: 'input', title: 'emoji, symbol and other-script share', scale: 100, unit: 'share of characters' },
  // Under the model's own tokenizer, counted by the scorer as it encodes (TokenStats); rows
  // logged without them (older rows, Azure ML's score.py) have none of the three.
  { id: 'tokens', kind: 'input', title: 'text length in tokens', scale: 1, unit: 'tokens' },
  { id: 'truncated', kind: 'input', title: 'cut at the model’s maxLength', scale: 1, unit: '1 = cut' },
  { id: 'fallback_token_share', kind: 'input', title: 'single-character or unknown token share', scale: 100, unit: 'share of tokens' },
];

/**
 * What the tokenizer made of a text: its length in tokens (specials and the cut included), whether
 * maxLength cut it, and how many tokens are <unk> or a single character. A text in a script,
 * slang or spelling the vocabulary never saw falls apart into characters: that share rises
 * before any label says the model is wrong.
 */
export interface TokenStats {
  count: number;
  truncated: boolean;
  fallback: number;
}

export const PROBABILITY_SCALE = 1000;

/** Output features: confidence, entropy, and each class's probability. */
export function outputFeatures(labels: readonly string[]): FeatureDefinition[] {
  return [
    { id: 'max_probability', kind: 'output', title: 'confidence (highest probability)', scale: PROBABILITY_SCALE, unit: 'probability' },
    { id: 'entropy', kind: 'output', title: 'entropy of the probabilities', scale: PROBABILITY_SCALE, unit: 'nats' },
    ...labels.map((l) => ({
      id: probabilityFeature(l),
      kind: 'output' as const,
      title: `probability of "${l}"`,
      scale: PROBABILITY_SCALE,
      unit: 'probability',
    })),
  ];
}

export const probabilityFeature = (label: string) => `p_${label}`;

export function numericFeatures(labels: readonly string[]): FeatureDefinition[] {
  return [...INPUT_FEATURES, ...outputFeatures(labels)];
}

/** Rows that predicted `label` with the highest probability in one bin: what CBPE needs. */
export interface ConfidenceCell {
  label: string;
  /** The bin's highest probability, binned at PROBABILITY_SCALE. */
  confidence: number;
  rows: number;
  /**
   * Per class, Σ p_class / (1 − confidence) over the cell's rows: how the mass the model did not
   * give its prediction spreads over the other classes (0 where confidence is 1).
   */
  spread: Record<string, number>;
}

export interface WindowSummary {
  rows: number;
  /** Distinct texts; rows − distinctTexts are repeats. (SQL counts 32-bit text hashes: see prediction-window.ts.) */
  distinctTexts: number;
  emptyTexts: number;
  /** Histogram of each numeric feature, values in the feature's own units. */
  numeric: Record<string, Histogram>;
  /** Predicted-label counts (every label of the model present, zeros included). */
  labels: Record<string, number>;
  confidence: ConfidenceCell[];
  /**
   * A uniform sample (at most EMBEDDING_SAMPLE rows) of the projected embeddings of rows that
   * carry one: what embedding drift compares. Absent when no row had one.
   */
  embeddings?: number[][];
}

/** Embedding drift's sample size a side: its tests are quadratic in it (about a second at 500). */
export const EMBEDDING_SAMPLE = 500;

/** floor(v · scale + 0.5) / scale: the rounding both implementations use. */
export const binned = (v: number, scale: number) => Math.floor(v * scale + 0.5) / scale;

/** Character counts by script: code points, as PostgreSQL's char_length counts them. */
export function scriptCounts(text: string): { chars: number; thai: number; latin: number; digit: number; space: number } {
  const counts = { chars: 0, thai: 0, latin: 0, digit: 0, space: 0 };
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    counts.chars++;
    if (inRanges(cp, SCRIPT_RANGES.thai)) counts.thai++;
    else if (inRanges(cp, SCRIPT_RANGES.latin)) counts.latin++;
    else if (inRanges(cp, SCRIPT_RANGES.digit)) counts.digit++;
    else if (inRanges(cp, SCRIPT_RANGES.space)) counts.space++;
  }
  return counts;
}

/** One row's input features (binned); shares are absent for an empty text, token features without TokenStats. */
export function inputFeatures(text: string, tokens?: TokenStats | null): Record<string, number> {
  const c = scriptCounts(text);
  const byTokens = tokens
    ? {
        tokens: tokens.count,
        truncated: tokens.truncated ? 1 : 0,
        ...(tokens.count > 0 ? { fallback_token_share: binned(tokens.fallback / tokens.count, 100) } : {}),
      }
    : {};
  if (c.chars === 0) return { chars: 0, ...byTokens };
  const share = (k: number) => binned(k / c.chars, 100);
  return {
    chars: c.chars,
    thai_share: share(c.thai),
    latin_share: share(c.latin),
    digit_share: share(c.digit),
    symbol_share: share(c.chars - c.thai - c.latin - c.digit - c.space),
    ...byTokens,
  };
}

/** −Σ p ln p over the model's labels, in their order (0 · ln 0 = 0). */
export function entropyOf(probabilities: Record<string, number>, labels: readonly string[]): number {
  let sum = 0;
  for (const l of labels) {
    const p = probabilities[l] ?? 0;
    if (p > 0) sum += p * Math.log(p);
  }
  return -sum;
}

export function maxProbabilityOf(probabilities: Record<string, number>, labels: readonly string[]): number {
  let max = 0;
  for (const l of labels) max = Math.max(max, probabilities[l] ?? 0);
  return max;
}

export interface ScoredRow {
  text: string;
  label: string;
  probabilities: Record<string, number>;
  embedding?: readonly number[] | null;
  tokenStats?: TokenStats | null;
}

/** FNV-1a over UTF-16 code units: a fast 32-bit hash; a million distinct texts collide in about a hundred pairs. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * Builds a WindowSummary one row at a time, in memory bounded by the number of distinct
 * binned values (and a 32-bit hash per distinct text, for the repeat count), not by the rows.
 */
export class WindowAccumulator {
  private rows = 0;
  private empty = 0;
  /** 32-bit hashes of the texts seen, as SQL counts them (hashtext): a number each, not the text. */
  private readonly texts = new Set<number>();
  private readonly numeric = new Map<string, Map<number, number>>();
  private readonly labelCounts: Record<string, number>;
  private readonly cells = new Map<string, ConfidenceCell>();
  private readonly embeddings: number[][] = [];
  private embedded = 0;
  // Seeded: the same rows in the same order give the same sample (the reference is repeatable).
  private readonly rand = seededRandom(29);

  constructor(private readonly labels: readonly string[]) {
    this.labelCounts = Object.fromEntries(labels.map((l) => [l, 0]));
    for (const f of numericFeatures(labels)) this.numeric.set(f.id, new Map());
  }

  add(row: ScoredRow): void {
    this.rows++;
    this.texts.add(fnv1a(row.text));
    this.labelCounts[row.label] = (this.labelCounts[row.label] ?? 0) + 1;
    const features = inputFeatures(row.text, row.tokenStats);
    if (features.chars === 0) this.empty++;
    const p = row.probabilities;
    const pmax = maxProbabilityOf(p, this.labels);
    features.max_probability = binned(pmax, PROBABILITY_SCALE);
    features.entropy = binned(entropyOf(p, this.labels), PROBABILITY_SCALE);
    for (const l of this.labels) features[probabilityFeature(l)] = binned(p[l] ?? 0, PROBABILITY_SCALE);
    for (const [id, v] of Object.entries(features)) {
      const h = this.numeric.get(id)!;
      h.set(v, (h.get(v) ?? 0) + 1);
    }
    const confidence = features.max_probability;
    const key = `${row.label}\u0000${confidence}`;
    let cell = this.cells.get(key);
    if (!cell) {
      cell = { label: row.label, confidence, rows: 0, spread: Object.fromEntries(this.labels.map((l) => [l, 0])) };
      this.cells.set(key, cell);
    }
    cell.rows++;
    if (pmax < 1) for (const l of this.labels) cell.spread[l]! += (p[l] ?? 0) / (1 - pmax);
    if (row.embedding) this.sampleEmbedding(row.embedding);
  }

  /** Reservoir sampling (Algorithm R): every row with an embedding equally likely to be kept. */
  private sampleEmbedding(embedding: readonly number[]): void {
    this.embedded++;
    // Five decimals: far below the projection's own float32 noise, and half the size in evaluation.json.
    const kept = () => embedding.map((v) => Math.round(v * 1e5) / 1e5);
    if (this.embeddings.length < EMBEDDING_SAMPLE) this.embeddings.push(kept());
    else {
      const j = Math.floor(this.rand() * this.embedded);
      if (j < EMBEDDING_SAMPLE) this.embeddings[j] = kept();
    }
  }

  summary(): WindowSummary {
    return {
      rows: this.rows,
      distinctTexts: this.texts.size,
      emptyTexts: this.empty,
      numeric: Object.fromEntries([...this.numeric].map(([id, h]) => [id, histogramOf(h)])),
      labels: { ...this.labelCounts },
      confidence: [...this.cells.values()].sort((a, b) => a.label.localeCompare(b.label) || a.confidence - b.confidence),
      ...(this.embeddings.length ? { embeddings: this.embeddings.map((e) => [...e]) } : {}),
    };
  }
}

export function summarize(rows: Iterable<ScoredRow>, labels: readonly string[]): WindowSummary {
  const acc = new WindowAccumulator(labels);
  for (const row of rows) acc.add(row);
  return acc.summary();
}
