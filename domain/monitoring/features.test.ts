import { describe, expect, it } from 'vitest';
import { entropyOf, inputFeatures, scriptCounts, scriptPattern, summarize, SCRIPT_RANGES } from './features';

describe('scriptCounts', () => {
  it('counts code points by script: Thai marks are Thai, emoji and punctuation are neither', () => {
    // "ก้า" is three code points (consonant, tone mark, vowel); 😊 is one code point, two UTF-16 units.
    expect(scriptCounts('ก้า café 12 😊!')).toEqual({ chars: 14, thai: 3, latin: 4, digit: 2, space: 3 });
    expect(scriptCounts('')).toEqual({ chars: 0, thai: 0, latin: 0, digit: 0, space: 0 });
  });

  it('Thai digits are Thai script, not digits', () => {
    expect(scriptCounts('๑๒๓')).toMatchObject({ thai: 3, digit: 0 });
  });

  it('builds each bracket expression from the same ranges, and it matches what the ranges hold', () => {
    expect(scriptPattern('thai')).toBe('[\\u0E00-\\u0E7F]');
    for (const script of Object.keys(SCRIPT_RANGES) as (keyof typeof SCRIPT_RANGES)[]) {
      const re = new RegExp(scriptPattern(script), 'u');
      for (const [lo, hi] of SCRIPT_RANGES[script]) {
        expect(re.test(String.fromCodePoint(lo))).toBe(true);
        expect(re.test(String.fromCodePoint(hi))).toBe(true);
      }
      expect(re.test('😊')).toBe(false);
    }
  });
});

describe('inputFeatures', () => {
  it('gives shares of the characters, binned to hundredths, and none for an empty text', () => {
    expect(inputFeatures('ab1 😊😊')).toEqual({ chars: 6, thai_share: 0, latin_share: 0.33, digit_share: 0.17, symbol_share: 0.33 });
    expect(inputFeatures('')).toEqual({ chars: 0 });
  });

  it('adds the tokenizer’s view when the scorer counted it: length in tokens, the cut, the share of fallback tokens', () => {
    expect(inputFeatures('ab', { count: 7, truncated: false, fallback: 2 })).toMatchObject({ chars: 2, tokens: 7, truncated: 0, fallback_token_share: 0.29 });
    expect(inputFeatures('ab', { count: 128, truncated: true, fallback: 0 })).toMatchObject({ tokens: 128, truncated: 1, fallback_token_share: 0 });
    expect(inputFeatures('', { count: 0, truncated: false, fallback: 0 })).toEqual({ chars: 0, tokens: 0, truncated: 0 });
    expect(Object.keys(inputFeatures('ab'))).not.toContain('tokens');
  });
});

describe('summarize', () => {
  const labels = ['neg', 'pos'];
  const rows = [
    { text: 'ดีมาก', label: 'pos', probabilities: { neg: 0.2, pos: 0.8 } },
    { text: 'ดีมาก', label: 'pos', probabilities: { neg: 0.2, pos: 0.8 } },
    { text: 'bad', label: 'neg', probabilities: { neg: 0.6, pos: 0.4 } },
  ];

  it('keeps histograms, label counts, repeats and the confidence cells', () => {
    const s = summarize(rows, labels);
    expect(s).toMatchObject({ rows: 3, distinctTexts: 2, emptyTexts: 0, labels: { neg: 1, pos: 2 } });
    expect(s.numeric.chars).toEqual([
      [3, 1],
      [5, 2],
    ]);
    expect(s.numeric.max_probability).toEqual([
      [0.6, 1],
      [0.8, 2],
    ]);
    expect(s.numeric.p_pos).toEqual([
      [0.4, 1],
      [0.8, 2],
    ]);
    expect(s.numeric.entropy).toEqual([
      [0.5, 2],
      [0.673, 1],
    ]);
    // spread: Σ p / (1 − confidence) per class, e.g. pos's cell: 2 × 0.2/0.2 for neg, 2 × 0.8/0.2 for pos.
    expect(s.confidence.map((c) => [c.label, c.confidence, c.rows])).toEqual([
      ['neg', 0.6, 1],
      ['pos', 0.8, 2],
    ]);
    expect(s.confidence[0]!.spread.neg).toBeCloseTo(1.5, 12);
    expect(s.confidence[0]!.spread.pos).toBeCloseTo(1, 12);
    expect(s.confidence[1]!.spread.neg).toBeCloseTo(2, 12);
    expect(s.confidence[1]!.spread.pos).toBeCloseTo(8, 12);
  });

  it('entropy is −Σ p ln p in nats', () => {
    expect(entropyOf({ neg: 0.5, pos: 0.5 }, labels)).toBeCloseTo(Math.log(2), 15);
    expect(entropyOf({ neg: 1, pos: 0 }, labels)).toBeCloseTo(0, 15);
  });
});
