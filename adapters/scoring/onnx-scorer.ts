// Scores texts with a model folder written by slurm/train.py: labels.json, the tokenizer files
// and model.onnx or model.int8.onnx (serving-choice.ts), all read from local disk. Everything downstream of training (evaluation,
// the local endpoint, monitoring) scores through here, so its ids must equal Python's.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import * as transformers from '@huggingface/transformers';
import { leaveOneOutVariants, readableUnits, type TokenUnit } from './attribution';
import { embeddingProjection } from '../../domain/embedding-projection';
import type { TokenStats } from '../../domain/monitoring/features';
import { chunk, frameIds, lengthBuckets, padBatch, specialFrame, toPredictions, type SpecialFrame } from './batching';
import { InferenceError, ModelFileMissingError, ModelFormatError, ScorerClosedError, ScoringError } from './errors';
import type { LoadScorer, Prediction, Scorer, TokenAttribution } from './port';
import { servingFile } from './serving-choice';
import { alignSentencePiece, withSupportedNormalizers } from './sentencepiece-parity';
import { byteLevelBpe } from './byte-level-bpe';

// Never reach a model hub: the tokenizer is built from the folder's JSON below, and these
// make any other transformers.js loader in this process fail fast instead of downloading.
transformers.env.allowRemoteModels = false;
transformers.env.allowLocalModels = true;

const PRODUCED_BY =
  'Run slurm/train.py (.venv/bin/python slurm/train.py --config CONFIG.json --data-dir DATA_DIR --out-dir OUT_DIR); it writes model.onnx, labels.json and the tokenizer files into OUT_DIR.';
const DEFAULT_MAX_LENGTH = 64;
const DEFAULT_BATCH_SIZE = 32;
// One onnxruntime call's fixed cost, in padded tokens, for grouping texts by length
// (lengthBuckets): measured on the demo model on 2 cores, a call costs about 300 µs plus 5 µs per
// row × width. Larger models make the overhead relatively smaller, where this only errs towards
// slightly fewer, fuller batches.
const CALL_OVERHEAD_TOKENS = 60;
// Hugging Face writes a huge sentinel (1e30) for "no limit"; anything above this is not a real one.
const MAX_SANE_LENGTH = 1_000_000;

async function readJson(modelDir: string, file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(join(modelDir, file), 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') throw new ModelFileMissingError(modelDir, file, PRODUCED_BY, { cause });
    throw new ScoringError(`cannot read ${file} in ${modelDir}: ${(cause as Error).message}`, modelDir, { cause });
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new ModelFormatError(modelDir, file, `not valid JSON (${(cause as Error).message}); was it written completely?`, { cause });
  }
}

/** labels.json: the labels in the order of the model's logits. */
export async function readLabels(modelDir: string): Promise<string[]> {
  const labels = await readJson(modelDir, 'labels.json');
  if (!Array.isArray(labels) || labels.length < 2 || !labels.every((l) => typeof l === 'string' && l.length > 0)) {
    throw new ModelFormatError(modelDir, 'labels.json', 'must be a JSON array of at least two non-empty label strings, in logit order');
  }
  if (new Set(labels).size !== labels.length) throw new ModelFormatError(modelDir, 'labels.json', 'labels must be unique');
  return labels as string[];
}

/** Turns texts into the exact ids slurm/mlc_train feeds its model: framed, truncated, unpadded. */
export interface TokenEncoder {
  readonly maxLength: number;
  readonly padId: number;
  readonly frame: SpecialFrame;
  encode(texts: readonly string[]): number[][];
  /** The same ids, with what monitoring measures of each text's tokens. */
  encodeWithStats(texts: readonly string[]): { ids: number[][]; stats: TokenStats[] };
  /** The pre-tokenizer's pieces of one text (byte-level strings), to compare with Python's. */
  pieces(text: string): string[];
  /** The text's content ids (no special tokens, untruncated) joined into readable units. */
  units(text: string): TokenUnit[];
}

type TokenizerClass = new (json: unknown, config: unknown) => transformers.PreTrainedTokenizer;

function tokenizerClass(config: Record<string, unknown>): TokenizerClass {
  // What AutoTokenizer does, minus the file loading: the class named in tokenizer_config.json
  // if transformers.js has it ("RobertaTokenizerFast" → RobertaTokenizer), else the base class.
  const name = typeof config.tokenizer_class === 'string' ? config.tokenizer_class.replace(/Fast$/, '') : '';
  const candidate = (transformers as unknown as Record<string, unknown>)[name];
  if (typeof candidate === 'function' && candidate.prototype instanceof transformers.PreTrainedTokenizer) return candidate as TokenizerClass;
  return transformers.PreTrainedTokenizer;
}

/**
 * Loads tokenizer.json + tokenizer_config.json from the folder. maxLength defaults to the
 * folder's own (train.py saves params.maxLength as model_max_length) and may not exceed it:
 * the encoder has position embeddings for that many tokens only.
 */
export async function loadEncoder(modelDir: string, options: { maxLength?: number } = {}): Promise<TokenEncoder> {
  const json = await readJson(modelDir, 'tokenizer.json');
  const config = await readJson(modelDir, 'tokenizer_config.json');
  if (typeof json !== 'object' || json === null || !('model' in json))
    throw new ModelFormatError(modelDir, 'tokenizer.json', 'is not a Hugging Face tokenizers file (no "model")');
  if (typeof config !== 'object' || config === null || Array.isArray(config))
    throw new ModelFormatError(modelDir, 'tokenizer_config.json', 'must be a JSON object');
  const cfg = config as Record<string, unknown>;

  const saved =
    typeof cfg.model_max_length === 'number' && Number.isInteger(cfg.model_max_length) && cfg.model_max_length <= MAX_SANE_LENGTH ? cfg.model_max_length : null;
  const maxLength = options.maxLength ?? saved ?? DEFAULT_MAX_LENGTH;
  if (!Number.isInteger(maxLength) || maxLength < 2) throw new ScoringError(`maxLength must be an integer ≥ 2, got ${maxLength}`, modelDir);
  if (saved !== null && maxLength > saved) {
    throw new ScoringError(
      `maxLength ${maxLength} exceeds the ${saved} tokens this model was trained for (tokenizer_config.json model_max_length); use at most ${saved}`,
      modelDir,
    );
  }

  let tokenizer: transformers.PreTrainedTokenizer;
  try {
    tokenizer = new (tokenizerClass(cfg))(withSupportedNormalizers(json), cfg);
    alignSentencePiece(tokenizer, json as Parameters<typeof alignSentencePiece>[1]);
  } catch (cause) {
    throw new ModelFormatError(modelDir, 'tokenizer.json', `transformers.js cannot build a tokenizer from it: ${(cause as Error).message}`, { cause });
  }
  alignByteLevelWhitespace(tokenizer);
  // The same ids, faster, for the byte-level BPE train.py writes; anything else through transformers.js.
  const fast = byteLevelBpe(json, tokenizer);
  const contentIds = (text: string): number[] => fast?.encode(text) ?? tokenizer.encode(text, { add_special_tokens: false });
  const padId = tokenizer.pad_token_id;
  if (typeof padId !== 'number')
    throw new ModelFormatError(modelDir, 'tokenizer_config.json', `no pad token id (pad_token is ${JSON.stringify(cfg.pad_token)})`);

  const probe = 'mlc probe ทดสอบ';
  const frame = specialFrame(tokenizer.encode(probe, { add_special_tokens: true }), tokenizer.encode(probe, { add_special_tokens: false }));
  if (!frame)
    throw new ModelFormatError(
      modelDir,
      'tokenizer.json',
      'its post-processor changes the text ids instead of only adding special tokens around them; not supported',
    );
  if (frame.prefix.length + frame.suffix.length >= maxLength)
    throw new ScoringError(`maxLength ${maxLength} leaves no room for text after the special tokens`, modelDir);

  const room = maxLength - frame.prefix.length - frame.suffix.length;
  const isFallback = fallbackTokens(tokenizer);
  return {
    maxLength,
    padId,
    frame,
    encode: (texts) => texts.map((t) => frameIds(contentIds(t), frame, maxLength)),
    encodeWithStats: (texts) => {
      const contents = texts.map(contentIds);
      return {
        ids: contents.map((c) => frameIds(c, frame, maxLength)),
        stats: contents.map((c) => {
          const kept = c.slice(0, room);
          return { count: kept.length + frame.prefix.length + frame.suffix.length, truncated: c.length > room, fallback: kept.filter(isFallback).length };
        }),
      };
    },
    units: (text) => readableUnits(contentIds(text), (ids) => tokenizer.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false })),
    pieces: (text) => {
      const pre = (tokenizer as unknown as { _tokenizer?: { pre_tokenizer?: { pre_tokenize?: (t: string) => string[] } | null } })._tokenizer?.pre_tokenizer;
      return pre?.pre_tokenize ? pre.pre_tokenize(text) : [text];
    },
  };
}

/**
 * Which ids count as fallbacks for monitoring's token features: <unk>, and pieces that decode to
 * a single character (what a text the vocabulary does not know falls apart into). Decided per
 * id on first use, then remembered.
 */
function fallbackTokens(tokenizer: transformers.PreTrainedTokenizer): (id: number) => boolean {
  const unk = (tokenizer as unknown as { unk_token_id?: number }).unk_token_id;
  const known = new Map<number, boolean>();
  return (id) => {
    let fallback = known.get(id);
    if (fallback === undefined) {
      // Only spaces are trimmed (a word's leading space is no character of its own): score.py
      // decides it the same way, and the two languages' ideas of "whitespace" differ.
      const text = tokenizer.decode([id], { skip_special_tokens: false, clean_up_tokenization_spaces: false }).replace(/^ +| +$/g, '');
      fallback = id === unk || Array.from(text).length === 1;
      known.set(id, fallback);
    }
    return fallback;
  };
}

// Oniguruma's \s (what the Rust tokenizers that trained the vocabulary use) is Unicode
// White_Space; JavaScript's \s adds U+FEFF and leaves out U+0085. transformers.js's byte-level
// pattern uses \s, so "\u0085'm" or a BOM would split differently than in Python. Same
// pattern, explicit White_Space set.
const WHITE_SPACE = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const GPT2_PATTERN_JS = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu.source;
const GPT2_PATTERN_ONIG = new RegExp(
  `'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^${WHITE_SPACE}\\p{L}\\p{N}]+|[${WHITE_SPACE}]+(?![^${WHITE_SPACE}])|[${WHITE_SPACE}]+`,
  'gu',
);

/** Swaps the byte-level pre-tokenizers' pattern for the White_Space one; returns how many. */
export function alignByteLevelWhitespace(tokenizer: transformers.PreTrainedTokenizer): number {
  let patched = 0;
  const visit = (node: unknown, depth: number): void => {
    // tokenizers.js pre-tokenizers are callable objects: functions, not plain objects.
    if (!node || (typeof node !== 'object' && typeof node !== 'function') || depth > 4) return;
    const n = node as { pattern?: unknown; byte_encoder?: unknown; tokenizers?: unknown; pre_tokenizers?: unknown };
    if (n.pattern instanceof RegExp && n.byte_encoder && n.pattern.source === GPT2_PATTERN_JS) {
      n.pattern = new RegExp(GPT2_PATTERN_ONIG.source, 'gu');
      patched++;
    }
    for (const child of [n.tokenizers, n.pre_tokenizers]) if (Array.isArray(child)) child.forEach((c) => visit(c, depth + 1));
  };
  visit((tokenizer as unknown as { _tokenizer?: { pre_tokenizer?: unknown } })._tokenizer?.pre_tokenizer, 0);
  return patched;
}

const KNOWN_INPUTS = new Set(['input_ids', 'attention_mask', 'token_type_ids']);

// Below this an ONNX file scores fastest on one thread. A model of the demo's size (hidden 64,
// 2 MB) runs many small operators, and waking a second thread for each costs more than it shares:
// one thread gave 1.2-1.4x the texts/s of onnxruntime's default at batch 1 and 1.03-1.05x at 32,
// on less CPU. From hidden 256 (20 MB) up the default wins, 1.1-1.6x, and 1.6-1.9x at hidden 768
// (bench/README.md, "scoring"). The size stands in for each operator's work; a large vocabulary
// only makes a small model look large, which keeps the default.
const ONE_THREAD_BELOW_BYTES = 8 * 2 ** 20;

/** The session's intra-op threads: the caller's, else one for a small model, else onnxruntime's default (undefined). */
export function intraOpThreadsFor(modelBytes: number, requested?: number): number | undefined {
  return requested ?? (modelBytes < ONE_THREAD_BELOW_BYTES ? 1 : undefined);
}

const withThreads = (threads: number | undefined) => (threads === undefined ? {} : { intraOpNumThreads: threads });

async function openSession(modelDir: string, file: string, intraOpThreads?: number): Promise<ort.InferenceSession> {
  const path = join(modelDir, file);
  // Checked here because onnxruntime's message for a missing file is opaque.
  let bytes: number;
  try {
    bytes = (await stat(path)).size;
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') throw new ModelFileMissingError(modelDir, file, PRODUCED_BY, { cause });
    throw new ScoringError(`cannot read ${file} in ${modelDir}: ${(cause as Error).message}`, modelDir, { cause });
  }
  let session: ort.InferenceSession;
  try {
    // No spinning: onnxruntime's idle pool threads otherwise busy-wait after every run, taking
    // the cores the event loop (HTTP, tokenizing, logging) needs; on a shared 2-core machine
    // that cut batch-32 throughput 2-8x (bench/endpoint.ts).
    const noSpinning = { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } };
    session = await ort.InferenceSession.create(path, {
      graphOptimizationLevel: 'all',
      extra: noSpinning,
      ...withThreads(intraOpThreadsFor(bytes, intraOpThreads)),
    });
  } catch (cause) {
    throw new ModelFormatError(modelDir, file, `onnxruntime cannot load it: ${(cause as Error).message ?? String(cause)}`, { cause });
  }
  const unknown = session.inputNames.filter((n) => !KNOWN_INPUTS.has(n));
  if (!session.inputNames.includes('input_ids') || unknown.length > 0) {
    await session.release();
    throw new ModelFormatError(modelDir, file, `expected inputs input_ids and attention_mask, found ${session.inputNames.join(', ')}`);
  }
  if (!session.outputNames.includes('logits')) {
    await session.release();
    throw new ModelFormatError(modelDir, file, `expected an output named logits, found ${session.outputNames.join(', ')}`);
  }
  return session;
}

export const loadScorer: LoadScorer = async (modelDir, options = {}) => {
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ScoringError(`batchSize must be a positive integer, got ${batchSize}`, modelDir);
  const labels = await readLabels(modelDir);
  const encoder = await loadEncoder(modelDir, { maxLength: options.maxLength });
  const { precision, file } = await servingFile(modelDir, options.precision);
  const intraOpThreads = options.intraOpThreads;
  if (intraOpThreads !== undefined && (!Number.isInteger(intraOpThreads) || intraOpThreads < 1))
    throw new ScoringError(`intraOpThreads must be a positive integer, got ${intraOpThreads}`, modelDir);
  const session = await openSession(modelDir, file, intraOpThreads);
  const hasEmbedding = session.outputNames.includes('embedding');
  let closed = false;

  /** Scores framed, truncated id rows (what encoder.encode returns); asks for `embedding` only when wanted. */
  async function scoreBatch(rows: number[][], withEmbeddings = false): Promise<Prediction[]> {
    const batch = padBatch(rows, encoder.padId);
    const dims = [batch.batch, batch.width];
    const feeds: Record<string, ort.Tensor> = { input_ids: new ort.Tensor('int64', batch.inputIds, dims) };
    if (session.inputNames.includes('attention_mask')) feeds.attention_mask = new ort.Tensor('int64', batch.attentionMask, dims);
    if (session.inputNames.includes('token_type_ids')) feeds.token_type_ids = new ort.Tensor('int64', new BigInt64Array(batch.inputIds.length), dims);
    let logits: ort.Tensor;
    let embedding: ort.Tensor | undefined;
    try {
      const out = await session.run(feeds, withEmbeddings ? ['logits', 'embedding'] : ['logits']);
      logits = out.logits!;
      embedding = out.embedding;
    } catch (cause) {
      throw new InferenceError(`onnxruntime failed on a batch of ${rows.length} texts (${batch.width} tokens wide): ${(cause as Error).message}`, modelDir, {
        cause,
      });
    }
    if (logits.type !== 'float32' || logits.dims.length !== 2 || logits.dims[1] !== labels.length) {
      throw new ModelFormatError(
        modelDir,
        file,
        `logits are ${logits.type} [${logits.dims.join(', ')}] but labels.json lists ${labels.length} labels; expected float32 [batch, ${labels.length}]`,
      );
    }
    const predictions = toPredictions(labels, logits.data as Float32Array, batch.batch);
    if (embedding) {
      if (embedding.type !== 'float32' || embedding.dims.length !== 2 || embedding.dims[0] !== batch.batch)
        throw new ModelFormatError(modelDir, file, `embedding is ${embedding.type} [${embedding.dims.join(', ')}]; expected float32 [batch, size]`);
      const size = embedding.dims[1]!;
      const projection = embeddingProjection(size);
      const data = embedding.data as Float32Array;
      predictions.forEach((p, r) => (p.embedding = projection.project(data, r * size)));
    }
    return predictions;
  }

  return {
    labels: [...labels],
    runtime: `onnxruntime-node ${ort.env.versions.node ?? ort.env.versions.common ?? 'unknown'}`,
    precision,
    embeddings: hasEmbedding,
    async predict(texts, predictOptions = {}) {
      if (closed) throw new ScorerClosedError(modelDir);
      const withEmbeddings = predictOptions.embeddings === true;
      if (withEmbeddings && !hasEmbedding)
        throw new ModelFormatError(
          modelDir,
          file,
          `has no output named embedding (outputs: ${session.outputNames.join(', ')}): it was exported before embeddings existed; retrain the model to get them, or score without { embeddings: true }`,
        );
      const { ids, stats } = predictOptions.tokenStats ? encoder.encodeWithStats(texts) : { ids: encoder.encode(texts), stats: undefined };
      // Texts of similar length share a batch (little padding); answers go back in input order.
      const out = new Array<Prediction>(texts.length);
      const buckets = lengthBuckets(
        ids.map((row) => row.length),
        batchSize,
        CALL_OVERHEAD_TOKENS,
      );
      for (const bucket of buckets) {
        const scored = await scoreBatch(
          bucket.map((i) => ids[i]!),
          withEmbeddings,
        );
        bucket.forEach((i, k) => {
          out[i] = scored[k]!;
          if (stats) out[i].tokenStats = stats[i];
        });
      }
      return out;
    },
    async explain(text, label): Promise<TokenAttribution> {
      if (closed) throw new ScorerClosedError(modelDir);
      if (!labels.includes(label)) throw new ScoringError(`cannot explain label "${label}": the model's labels are ${labels.join(', ')}`, modelDir);
      const units = encoder.units(text);
      const room = encoder.maxLength - encoder.frame.prefix.length - encoder.frame.suffix.length;
      const { variants, read } = leaveOneOutVariants(units, room);
      const rows = [units.flatMap((u) => u.ids), ...variants].map((ids) => frameIds(ids, encoder.frame, encoder.maxLength));
      const scored: Prediction[] = [];
      for (const part of chunk(rows, batchSize)) scored.push(...(await scoreBatch(part)));
      const probability = scored[0]!.probabilities[label]!;
      return {
        label,
        probability,
        tokens: units.map((u, i) => ({ text: u.text, weight: i < read ? probability - scored[i + 1]!.probabilities[label]! : null })),
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      await session.release();
    },
  } satisfies Scorer;
};
