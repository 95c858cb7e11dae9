// Where transformers.js handles a SentencePiece-style tokenizer.json (a Unigram model behind the
// Metaspace pre-tokenizer, as XLM-R and WangchanBERTa ship) differently from Hugging Face's
// tokenizers (Rust), which train.py and score.py use — each difference found by
// test/integration/sentencepiece-pretrained.test.ts on Wisesight texts, and each fixed here after
// the tokenizer is built, so the served model sees the ids the trained one did:
//
// 1. Normalizer `Nmt` is unknown to transformers.js (the folder would not load at all). Rust's
//    do_nmt drops ASCII control characters and maps a set of other whitespace-like code points
//    to a space; two Regex Replaces do exactly that.
// 1b. Normalizer `Precompiled` (sentencepiece's charsmap, what WangchanBERTa's converted
//    tokenizer.json carries): transformers.js does not read the charsmap but approximates the
//    default nmt_nfkc table with a few replacements and NFKC. Compared code point by code point
//    with Rust on a real nmt_nfkc tokenizer.json, it differs on U+200D, the zero-width joiner
//    inside every emoji ZWJ sequence (👨‍👩‍👧), and U+061C only; the approximation is swapped for
//    one with those two put right. Another charsmap can differ elsewhere:
//    scripts/tokenizer-parity.ts checks a real folder.
// 2. Metaspace with `split: true` splits the text into words at each "▁" (merged with the word
//    after it); transformers.js ignores `split` and hands the Unigram model the whole text.
// 3. Unigram segmentation breaks ties differently. Ties are common: "55555" as 5 + 5555 or
//    5555 + 5 scores the same in exact arithmetic, and the two floating-point sums differ only
//    in their last bit. Rust runs the forward dynamic programme of SentencePiece's
//    EncodeOptimized (tokenizers/src/models/unigram/model.rs, encode_optimized, fuse_unk),
//    comparing each candidate path with the best recorded at its end position, strictly, in
//    order of where its last piece starts; transformers.js runs a lattice Viterbi that compares
//    predecessors after adding the next piece's score. Ported below: positions are code points
//    here (bytes there, one character at a time alike), a character no piece starts with is
//    <unk> scored min_score − 10, and runs of <unk> fuse into one.

// ASCII control characters: both Nmt and sentencepiece's nmt_nfkc table drop them.
const CONTROLS = '[\\u0001-\\u0008\\u000B\\u000E-\\u001F\\u007F\\u008F\\u009F]';
// What Rust's Nmt turns into a space.
const NMT_TO_SPACE = '[\\u0009\\u000A\\u000C\\u000D\\u1680\\u200B-\\u200F\\u2028\\u2029\\u2581\\uFEFF\\uFFFD]';

const NMT_NFKC_DROPPED = new RegExp(CONTROLS, 'g');
// transformers.js's set, less U+200D (nmt_nfkc keeps the joiner), plus U+061C (nmt_nfkc: a space).
// eslint-disable-next-line no-control-regex
const NMT_NFKC_TO_SPACE = /[\u0009\u000A\u000C\u000D\u00A0\u061C\u1680\u2000-\u200C\u200E\u200F\u2028\u2029\u202F\u205F\u2581\u3000\uFEFF\uFFFD]/g;

function nmtNfkc(text: string): string {
  const spaced = text.replace(NMT_NFKC_DROPPED, '').replace(NMT_NFKC_TO_SPACE, ' ');
  // As transformers.js (and sentencepiece): NFKC would turn the fullwidth tilde into "~".
  return spaced.includes('\uFF5E')
    ? spaced
        .split('\uFF5E')
        .map((part) => part.normalize('NFKC'))
        .join('\uFF5E')
    : spaced.normalize('NFKC');
}

interface NormalizerNode {
  config?: { type?: string };
  normalize?: (text: string) => string;
  normalizers?: unknown[];
}

/** Replaces the normalize of every Precompiled normalizer in the tokenizer (1b); returns how many. */
export function alignPrecompiledNormalizer(tokenizer: unknown): number {
  let patched = 0;
  const visit = (node: unknown, depth: number): void => {
    if (!node || (typeof node !== 'object' && typeof node !== 'function') || depth > 4) return;
    const n = node as NormalizerNode;
    if (n.config?.type === 'Precompiled' && typeof n.normalize === 'function') {
      n.normalize = nmtNfkc;
      patched++;
    }
    if (Array.isArray(n.normalizers)) n.normalizers.forEach((c) => visit(c, depth + 1));
  };
  visit((tokenizer as { _tokenizer?: { normalizer?: unknown } })._tokenizer?.normalizer, 0);
  return patched;
}

type Json = Record<string, unknown>;

function rewrite(normalizer: unknown): unknown {
  if (!normalizer || typeof normalizer !== 'object') return normalizer;
  const n = normalizer as Json;
  if (n.type === 'Nmt') {
    return {
      type: 'Sequence',
      normalizers: [
        { type: 'Replace', pattern: { Regex: CONTROLS }, content: '' },
        { type: 'Replace', pattern: { Regex: NMT_TO_SPACE }, content: ' ' },
      ],
    };
  }
  if (n.type === 'Sequence' && Array.isArray(n.normalizers)) return { ...n, normalizers: n.normalizers.map(rewrite) };
  return n;
}

/** tokenizer.json with every normalizer transformers.js lacks replaced by an equivalent it has. */
export function withSupportedNormalizers<T>(tokenizerJson: T): T {
  if (!tokenizerJson || typeof tokenizerJson !== 'object' || !('normalizer' in tokenizerJson)) return tokenizerJson;
  return { ...tokenizerJson, normalizer: rewrite((tokenizerJson as Json).normalizer) };
}

/** The fields of transformers.js's Unigram model this needs (set by its constructor). */
interface UnigramModel {
  vocab: string[];
  scores: number[];
  tokens_to_ids: Map<string, number>;
  unk_token_id: number;
  unk_score: number;
  trie: { common_prefix_search(chars: string[], start: number): Iterable<string> };
  tokenize(normalized: string): string[];
}

interface BestPath {
  score: number;
  /** Where the last piece of the best path ending here starts; -1 while none reached here. */
  start: number;
  id: number;
}

/** The pieces Rust's Unigram::encode gives for one pre-tokenized word. */
export function encodeLikeTokenizers(model: UnigramModel, text: string): string[] {
  const chars = Array.from(text);
  const n = chars.length;
  if (n === 0) return [];
  const best: BestPath[] = Array.from({ length: n + 1 }, () => ({ score: 0, start: -1, id: -1 }));
  const offer = (end: number, score: number, start: number, id: number) => {
    const target = best[end]!;
    if (target.start < 0 || score > target.score) Object.assign(target, { score, start, id });
  };
  for (let start = 0; start < n; start++) {
    const tillHere = best[start]!.score;
    let single = false;
    for (const piece of model.trie.common_prefix_search(chars, start)) {
      const length = Array.from(piece).length;
      const id = model.tokens_to_ids.get(piece)!;
      // The vocabulary's own score, also for the literal <unk> piece (transformers.js overwrote it).
      offer(start + length, vocabScore(model, id) + tillHere, start, id);
      if (length === 1) single = true;
    }
    if (!single) offer(start + 1, model.unk_score + tillHere, start, model.unk_token_id);
  }
  const pieces: string[] = [];
  let unknown: string[] = [];
  for (let end = n; end > 0;) {
    const { start, id } = best[end]!;
    const piece = chars.slice(start, end).join('');
    if (id === model.unk_token_id) unknown.push(piece);
    else {
      if (unknown.length) pieces.push(unknown.reverse().join(''));
      unknown = [];
      pieces.push(piece);
    }
    end = start;
  }
  if (unknown.length) pieces.push(unknown.reverse().join(''));
  return pieces.reverse();
}

const originalScores = new WeakMap<UnigramModel, number>();

function vocabScore(model: UnigramModel, id: number): number {
  return id === model.unk_token_id ? (originalScores.get(model) ?? model.scores[id]!) : model.scores[id]!;
}

interface PreTokenizerNode {
  replacement?: string;
  prepend_scheme?: string;
  pre_tokenize_text?: (text: string, options?: unknown) => string[];
  /** A Sequence's children (transformers.js's name for tokenizer.json's `pretokenizers`). */
  tokenizers?: unknown[];
}

/** Whether tokenizer.json's Metaspace pre-tokenizer (at the top or in a Sequence) splits: tokenizers' default is true. */
function metaspaceSplits(config: unknown): boolean {
  const c = config as { type?: string; split?: boolean; pretokenizers?: unknown[] } | null | undefined;
  if (c?.type === 'Metaspace') return c.split !== false;
  return Array.isArray(c?.pretokenizers) && c.pretokenizers.some(metaspaceSplits);
}

/** Wraps each Metaspace pre-tokenizer (it keeps no config: known by its fields) so it splits into words. */
function splitMetaspaceWords(node: unknown, depth = 0): void {
  if (!node || (typeof node !== 'object' && typeof node !== 'function') || depth > 4) return;
  const n = node as PreTokenizerNode;
  if (typeof n.replacement === 'string' && typeof n.prepend_scheme === 'string' && typeof n.pre_tokenize_text === 'function') {
    const r = n.replacement;
    const words = new RegExp(`${r}[^${r}]*|[^${r}]+`, 'gu');
    const whole = n.pre_tokenize_text.bind(n);
    n.pre_tokenize_text = (text, options) => whole(text, options).flatMap((t) => t.match(words) ?? []);
  }
  if (Array.isArray(n.tokenizers)) n.tokenizers.forEach((c) => splitMetaspaceWords(c, depth + 1));
}

/**
 * Makes a transformers.js tokenizer built from a SentencePiece-style tokenizer.json normalize,
 * pre-tokenize and segment as Rust's does (differences 1b, 2 and 3 above); other tokenizer types
 * are left as they are.
 */
export function alignSentencePiece(
  tokenizer: unknown,
  tokenizerJson: { model?: { type?: string; unk_id?: number; vocab?: [string, number][] }; pre_tokenizer?: unknown },
): void {
  // transformers.js keeps the tokenizers pipeline (normalizer, pre-tokenizer, model) in _tokenizer.
  const pipeline = (tokenizer as { _tokenizer?: { model?: UnigramModel; pre_tokenizer?: unknown } })._tokenizer;
  const model = pipeline?.model;
  alignPrecompiledNormalizer(tokenizer);
  if (tokenizerJson.model?.type !== 'Unigram' || !model?.trie || typeof model.tokenize !== 'function') return;
  if (metaspaceSplits(tokenizerJson.pre_tokenizer)) splitMetaspaceWords(pipeline?.pre_tokenizer);
  const unkId = tokenizerJson.model.unk_id;
  if (typeof unkId === 'number') originalScores.set(model, tokenizerJson.model.vocab?.[unkId]?.[1] ?? model.scores[unkId]!);
  model.tokenize = (normalized: string) => encodeLikeTokenizers(model, normalized);
}
