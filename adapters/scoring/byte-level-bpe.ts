// The tokenizers train.py writes are byte-level BPE: a regex splits the text into pieces, each
// piece's UTF-8 bytes become characters, and merges join them by rank. transformers.js runs that
// through its general machinery (merges keyed by JSON.stringify([a, b]), a priority queue of
// objects per piece, an LRU of 10,000 pieces), which on Thai, where a piece runs to the next
// space, was most of the Node scorer's time outside the model. This encoder gives the same ids
// with integer-keyed merges over typed arrays and a cache of pieces to ids. It takes only what it
// can match exactly — a BPE model without dropout, affixes or byte fallback, no normalizer, and a
// pre-tokenizer of ByteLevel alone or Split then ByteLevel without its regex — and hands any text
// holding an added token (`<s>`, `<mask>`…) back to transformers.js, which splits those out first.
// The parity tests compare both, and Python's ids, over the corpus and every code point.

interface PieceSplitter {
  pre_tokenize_text(text: string): string[];
}

/** What of transformers.js's tokenizer this needs: its pre-tokenizer objects, already built from tokenizer.json. */
interface BuiltTokenizer {
  _tokenizer?: { pre_tokenizer?: unknown; normalizer?: unknown };
}

interface BpeJson {
  model?: {
    type?: string;
    vocab?: Record<string, number>;
    merges?: (string | [string, string])[];
    dropout?: unknown;
    continuing_subword_prefix?: unknown;
    end_of_word_suffix?: unknown;
    byte_fallback?: unknown;
    ignore_merges?: unknown;
  };
  normalizer?: unknown;
  pre_tokenizer?: PreTokenizerJson;
  added_tokens?: { content: string }[];
}

export interface ContentEncoder {
  /** The text's content ids (no special tokens, untruncated), or null when only transformers.js can say. */
  encode(text: string): number[] | null;
}

const PIECE_CACHE_LIMIT = 100_000;
// Ids stay below 2^21 (2 million) in any vocabulary this meets; a pair packs into one number.
const ID_BITS = 2 ** 21;

/** The byte → character table of GPT-2's byte-level BPE (the printable bytes map to themselves). */
function byteCharacters(): string[] {
  const direct = [...range(0x21, 0x7e), ...range(0xa1, 0xac), ...range(0xae, 0xff)];
  const table = new Array<string>(256);
  let shifted = 0;
  for (let b = 0; b < 256; b++) table[b] = String.fromCharCode(direct.includes(b) ? b : 256 + shifted++);
  return table;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

type PreTokenizerJson = {
  type?: string;
  add_prefix_space?: boolean;
  use_regex?: boolean;
  invert?: boolean;
  behavior?: string;
  pretokenizers?: PreTokenizerJson[];
};

/**
 * The splitter to run before the byte mapping, or null when the pre-tokenizer is not one this
 * matches. The shape is read from tokenizer.json; the splitting itself is done by the objects
 * transformers.js built from it (with the White_Space pattern onnx-scorer.ts puts in), so the
 * pieces are the ones it would make.
 */
function pieceSplitter(pre: PreTokenizerJson | undefined, built: BuiltTokenizer): ((text: string) => string[]) | null {
  const node = built._tokenizer?.pre_tokenizer as { pattern?: unknown; tokenizers?: unknown[] } | undefined;
  const byteLevel = (p: PreTokenizerJson | undefined, regex: boolean) => p?.type === 'ByteLevel' && !p.add_prefix_space && (p.use_regex ?? true) === regex;
  if (byteLevel(pre, true) && node?.pattern instanceof RegExp) {
    const pattern = node.pattern;
    return (text) => text.match(pattern) ?? [];
  }
  const [split, last, ...rest] = pre?.type === 'Sequence' ? (pre.pretokenizers ?? []) : [];
  const splitter = node?.tokenizers?.[0] as PieceSplitter | undefined;
  if (
    rest.length === 0 &&
    split?.type === 'Split' &&
    !split.invert &&
    split.behavior === 'Isolated' &&
    byteLevel(last, false) &&
    typeof splitter?.pre_tokenize_text === 'function'
  ) {
    return (text) => splitter.pre_tokenize_text(text);
  }
  return null;
}

export function byteLevelBpe(json: unknown, built: BuiltTokenizer): ContentEncoder | null {
  const j = json as BpeJson;
  const m = j.model;
  if (m?.type !== 'BPE' || !m.vocab || !Array.isArray(m.merges) || j.normalizer || built._tokenizer?.normalizer) return null;
  if (m.dropout || m.continuing_subword_prefix || m.end_of_word_suffix || m.byte_fallback || m.ignore_merges) return null;
  const split = pieceSplitter(j.pre_tokenizer, built);
  if (!split) return null;

  const vocab = new Map(Object.entries(m.vocab));
  let top = 0;
  for (const id of vocab.values()) {
    if (!Number.isInteger(id) || id < 0 || id >= ID_BITS) return null;
    top = Math.max(top, id);
  }
  // (left id, right id) → rank; the merged token's id is mergedIds[rank]. With ids under 2^15 (a
  // vocabulary of up to 32,768, the demo's 6,000 and WangchanBERTa's 25,000 among them) the pair
  // packs into a small integer, which V8's Map hashes far faster than a larger number.
  const packed = top < 2 ** 15;
  const pairKey = packed ? (left: number, right: number) => (left << 15) | right : (left: number, right: number) => left * ID_BITS + right;
  const merges = new Map<number, number>();
  const mergedIds = new Int32Array(m.merges.length);
  for (const [rank, merge] of m.merges.entries()) {
    const [a, b] = typeof merge === 'string' ? (merge.split(' ', 2) as [string, string]) : merge;
    const [left, right, merged] = [vocab.get(a), vocab.get(b), vocab.get(a + b)];
    if (left === undefined || right === undefined || merged === undefined) continue; // transformers.js cannot apply it either
    const key = pairKey(left, right);
    if (!merges.has(key)) merges.set(key, rank);
    mergedIds[rank] = merged;
  }
  const bytes = byteCharacters().map((c) => vocab.get(c) ?? -1);
  const added = (j.added_tokens ?? []).map((t) => t.content).filter((c) => c.length > 0);
  const encoder = new TextEncoder();
  const cache = new Map<string, number[]>();

  const NONE = 0x7fffffff;
  const pairRank = (left: number, right: number) => merges.get(pairKey(left, right)) ?? NONE;
  // Scratch space for pieceIds, grown to the longest piece seen: no allocation per piece.
  let room = 0;
  let utf8 = new Uint8Array(0);
  let ids = new Int32Array(0);
  let next = new Int32Array(0);
  let prev = new Int32Array(0);
  let pairRanks = new Int32Array(0); // the rank of the pair (i, next[i]), or NONE
  const queue = new PairQueue();

  /** Ranks the pair that starts at token i (with the token after it) and queues it if it merges. */
  function rankPairAt(i: number): void {
    const after = next[i]!;
    pairRanks[i] = after >= 0 ? pairRank(ids[i]!, ids[after]!) : NONE;
    if (pairRanks[i] !== NONE) queue.push(pairRanks[i], i);
  }

  /**
   * BPE over one piece: the lowest-ranked adjacent pair merges first, the leftmost on a tie. A
   * Thai piece runs to the next space, a hundred bytes or more, and merges nearly down to words,
   * so rescanning every pair for each merge costs the square of its length. Instead, as Hugging
   * Face's own BPE does, a linked list over the bytes holds the tokens, each pair's rank is kept
   * beside it, and a queue ordered by (rank, position) gives the next merge; a merge looks up only
   * the two pairs it changes, and queue entries it made stale are skipped when they come up.
   */
  function pieceIds(piece: string): number[] | null {
    if (piece.length * 3 >= ID_BITS) return null; // past what a queue key holds: transformers.js takes it
    if (piece.length * 3 > room) {
      room = Math.max(piece.length * 3, 2 * room, 256);
      [utf8, ids, next, prev, pairRanks] = [new Uint8Array(room), new Int32Array(room), new Int32Array(room), new Int32Array(room), new Int32Array(room)];
    }
    const n = encoder.encodeInto(piece, utf8).written; // UTF-8 takes at most 3 bytes per UTF-16 unit
    for (let i = 0; i < n; i++) {
      const id = bytes[utf8[i]!]!;
      if (id < 0) return null;
      ids[i] = id;
    }
    for (let i = 0; i < n; i++) {
      next[i] = i + 1 < n ? i + 1 : -1;
      prev[i] = i - 1;
    }
    queue.clear();
    for (let i = 0; i < n; i++) rankPairAt(i);
    while (queue.size > 0) {
      const key = queue.pop();
      const [best, at] = [Math.floor(key / ID_BITS), key % ID_BITS];
      if (pairRanks[at] !== best) continue; // that pair changed (or its left token merged away) since
      ids[at] = mergedIds[best]!;
      const gone = next[at]!;
      pairRanks[gone] = NONE;
      const after = next[gone]!;
      next[at] = after;
      if (after >= 0) prev[after] = at;
      rankPairAt(at);
      if (prev[at]! >= 0) rankPairAt(prev[at]!);
    }
    const out: number[] = [];
    for (let i = 0; i >= 0; i = next[i]!) out.push(ids[i]!);
    return out;
  }

  return {
    encode(text) {
      for (const a of added) if (text.includes(a)) return null;
      const out: number[] = [];
      for (const piece of split(text)) {
        if (piece.length === 0) continue;
        let ids = cache.get(piece);
        if (!ids) {
          const fresh = pieceIds(piece);
          if (!fresh) return null;
          if (cache.size >= PIECE_CACHE_LIMIT) cache.clear();
          cache.set(piece, (ids = fresh));
        }
        for (const id of ids) out.push(id);
      }
      return out;
    },
  };
}

/** A binary min-heap of (rank, position) pairs, packed into one number so that a tie in rank goes to the leftmost. */
class PairQueue {
  private heap = new Float64Array(256);
  size = 0;

  clear(): void {
    this.size = 0;
  }

  push(rank: number, position: number): void {
    if (this.size === this.heap.length) {
      const grown = new Float64Array(this.heap.length * 2);
      grown.set(this.heap);
      this.heap = grown;
    }
    const heap = this.heap;
    const key = rank * ID_BITS + position;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]! <= key) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = key;
  }

  /** The smallest pair, as rank × ID_BITS + position; the queue must not be empty. */
  pop(): number {
    const heap = this.heap;
    const top = heap[0]!;
    const last = heap[--this.size]!;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= this.size) break;
      if (child + 1 < this.size && heap[child + 1]! < heap[child]!) child++;
      if (heap[child]! >= last) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
    return top;
  }
}
