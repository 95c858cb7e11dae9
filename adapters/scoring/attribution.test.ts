import { describe, expect, it } from 'vitest';
import { leaveOneOutVariants, readableUnits } from './attribution';

// A byte-level vocabulary like the trained BPE's: each id is a run of UTF-8 bytes that may end
// in the middle of a character, decoded the way the tokenizer does (U+FFFD for a cut character).
function byteVocab(pieces: number[][]) {
  const decode = (ids: number[]) => new TextDecoder().decode(Uint8Array.from(ids.flatMap((i) => pieces[i]!)));
  return { ids: pieces.map((_, i) => i), decode };
}

describe('readableUnits', () => {
  it('joins tokens that cut a Thai character or an emoji until they decode whole', () => {
    const bytes = [...new TextEncoder().encode('อาหาร 😊 ok')];
    // อ (3 bytes) | า + first byte of ห | rest of ห, า, ร | space + 2 bytes of 😊 | 2 bytes | " ok"
    const cuts = [3, 7, 15, 18, 20, 23];
    const pieces = cuts.map((end, i) => bytes.slice(i ? cuts[i - 1] : 0, end));
    const { ids, decode } = byteVocab(pieces);
    const units = readableUnits(ids, decode);
    expect(units.map((u) => u.text)).toEqual(['อ', 'าหาร', ' 😊', ' ok']);
    expect(units.map((u) => u.ids)).toEqual([[0], [1, 2], [3, 4], [5]]);
    expect(units.map((u) => u.text).join('')).toBe('อาหาร 😊 ok');
  });

  it('keeps a text that holds U+FFFD itself from swallowing the rest', () => {
    const pieces = [[0xef, 0xbf, 0xbd], ...Array.from({ length: 10 }, () => [0x61])];
    const { ids, decode } = byteVocab(pieces);
    const units = readableUnits(ids, decode);
    expect(units[0]!.ids.length).toBeLessThanOrEqual(8);
    expect(units.flatMap((u) => u.ids)).toEqual(ids);
  });

  it('returns nothing for no tokens', () => {
    expect(readableUnits([], () => '')).toEqual([]);
  });
});

describe('leaveOneOutVariants', () => {
  const units = [
    { text: 'a', ids: [1] },
    { text: 'bc', ids: [2, 3] },
    { text: 'd', ids: [4] },
    { text: 'e', ids: [5] },
  ];

  it('leaves each unit out in turn', () => {
    expect(leaveOneOutVariants(units, 100)).toEqual({
      read: 4,
      variants: [
        [2, 3, 4, 5],
        [1, 4, 5],
        [1, 2, 3, 5],
        [1, 2, 3, 4],
      ],
    });
  });

  it('skips units the model never reads (past maxLength), but not one it reads in part', () => {
    // room 2: ids 1 and 2 are read; "bc" starts inside, "d" and "e" are cut off.
    const { read, variants } = leaveOneOutVariants(units, 2);
    expect(read).toBe(2);
    expect(variants).toHaveLength(2);
  });
});
