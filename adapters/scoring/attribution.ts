// Leave-one-token-out attributions, the pure half: which pieces of a text the model leaned on.
// Byte-level BPE splits a Thai character or an emoji across tokens (each decodes to U+FFFD on
// its own), so tokens are first joined into readable units; a unit is what is left out and
// what the audit page highlights.

export interface TokenUnit {
  /** The unit's text as the tokenizer decodes it (a leading space included). */
  text: string;
  ids: number[];
}

// A UTF-8 character is at most 4 bytes; 8 tokens leaves room for a character that starts in
// the middle of the previous token. Past that, the text itself holds U+FFFD: stop joining.
const MAX_TOKENS_PER_UNIT = 8;

/** Joins consecutive tokens until they decode to whole characters. */
export function readableUnits(ids: readonly number[], decode: (ids: number[]) => string): TokenUnit[] {
  const units: TokenUnit[] = [];
  let pending: number[] = [];
  for (let i = 0; i < ids.length; i++) {
    pending.push(ids[i]!);
    const text = decode(pending);
    const last = i === ids.length - 1;
    if (!text.includes('\uFFFD') || last || pending.length >= MAX_TOKENS_PER_UNIT) {
      units.push({ text, ids: pending });
      pending = [];
    }
  }
  return units;
}

/**
 * The content ids with each unit left out in turn, for the units the model reads (those that
 * start within the first `room` content ids; the rest are cut by truncation and cannot matter).
 */
export function leaveOneOutVariants(units: readonly TokenUnit[], room: number): { variants: number[][]; read: number } {
  let start = 0;
  let read = 0;
  for (const u of units) {
    if (start >= room) break;
    start += u.ids.length;
    read++;
  }
  const variants = units.slice(0, read).map((_, skip) => units.flatMap((u, i) => (i === skip ? [] : u.ids)));
  return { variants, read };
}
