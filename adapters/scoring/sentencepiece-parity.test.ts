import * as transformers from '@huggingface/transformers';
import { describe, expect, it } from 'vitest';
import { alignPrecompiledNormalizer, alignSentencePiece, encodeLikeTokenizers, withSupportedNormalizers } from './sentencepiece-parity';

const DEFAULT_VOCAB: [string, number][] = [
  ['<unk>', 0],
  ['▁', -1],
  ['a', -2],
  ['b', -2],
];

// A SentencePiece-shaped tokenizer.json; transformers.js never reads the charsmap itself.
const tokenizerJson = (normalizer: unknown, vocab: [string, number][] = DEFAULT_VOCAB) => ({
  version: '1.0',
  added_tokens: [],
  normalizer,
  pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
  post_processor: null,
  decoder: null,
  model: {
    type: 'Unigram',
    unk_id: 0,
    vocab,
    byte_fallback: false,
  },
});
const normalize = (t: transformers.PreTrainedTokenizer, s: string) =>
  (t as unknown as { _tokenizer: { normalizer: { normalize(s: string): string } } })._tokenizer.normalizer.normalize(s);

describe('alignPrecompiledNormalizer', () => {
  it("keeps the emoji joiner U+200D and spaces U+061C, as sentencepiece's nmt_nfkc does", () => {
    const precompiled = { type: 'Precompiled', precompiled_charsmap: '' };
    for (const normalizer of [precompiled, { type: 'Sequence', normalizers: [precompiled] }]) {
      const tok = new transformers.PreTrainedTokenizer(tokenizerJson(normalizer), { unk_token: '<unk>' });
      const family = '👨\u200d👩\u200d👧';
      expect(normalize(tok, family)).not.toBe(family); // transformers.js's approximation breaks the sequence
      expect(alignPrecompiledNormalizer(tok)).toBe(1);
      expect(normalize(tok, family)).toBe(family);
      expect(normalize(tok, 'a\u061cb\u200bc\u0007ｆｕｌｌ\uff5e')).toBe('a b cfull\uff5e');
    }
  });

  it('leaves a tokenizer without a Precompiled normaliser alone', () => {
    const tok = new transformers.PreTrainedTokenizer(tokenizerJson({ type: 'NFKC' }), { unk_token: '<unk>' });
    expect(alignPrecompiledNormalizer(tok)).toBe(0);
  });
});

type Built = transformers.PreTrainedTokenizer & { _tokenizer: { model: Parameters<typeof encodeLikeTokenizers>[0] } };
const build = (json: ReturnType<typeof tokenizerJson>) => {
  const tok = new transformers.PreTrainedTokenizer(withSupportedNormalizers(json), { unk_token: '<unk>' }) as Built;
  alignSentencePiece(tok, json);
  return tok;
};

describe('encodeLikeTokenizers: Unigram segmentation as Rust tokenizers does it', () => {
  // The vocabulary and expectations of tokenizers' own test (models/unigram/model.rs, test_encode2),
  // which holds for its optimized and lattice encoders alike; <unk> runs fuse.
  const vocab: [string, number][] = [
    ['<unk>', 0],
    ['ab', 0],
    ['cd', -0.1],
    ['abc', -0.2],
    ['a', -0.3],
    ['b', -0.4],
    ['c', -0.5],
    ['ABC', -0.5],
    ['abcdabcd', 20],
    ['q', 20.5],
    ['r', 20.5],
    ['qr', -0.5],
  ];
  const model = build(tokenizerJson(null, vocab))._tokenizer.model;
  it.each([
    ['abc', ['abc']],
    ['AB', ['AB']],
    ['abcd', ['ab', 'cd']],
    ['abcc', ['abc', 'c']],
    ['xabcabaabcdd', ['x', 'abc', 'ab', 'a', 'ab', 'cd', 'd']],
    ['xyz東京', ['xyz東京']],
    ['ABC', ['ABC']],
    ['abABCcd', ['ab', 'ABC', 'cd']],
    ['ababcdabcdcd', ['ab', 'abcdabcd', 'cd']],
    ['abqrcd', ['ab', 'q', 'r', 'cd']],
  ])('%s → %j', (text, pieces) => {
    expect(encodeLikeTokenizers(model, text)).toEqual(pieces);
  });

  it('breaks an exact tie as Rust does: the last piece starting earliest wins', () => {
    const tied = build(
      tokenizerJson(null, [
        ['<unk>', 0],
        ['5', -1],
        ['55', -2],
      ]),
    )._tokenizer.model;
    // 5 + 55 and 55 + 5 both score -3: Rust keeps the path whose last piece starts first.
    expect(encodeLikeTokenizers(tied, '555')).toEqual(['5', '55']);
  });
});

describe('Metaspace with split: true', () => {
  it('hands the model one word at a time, each with its "▁", as Rust does', () => {
    const tok = build(tokenizerJson(null));
    expect(tok.tokenize('a b  ab')).toEqual(['▁', 'a', '▁', 'b', '▁', '▁', 'a', 'b']);
    const pre = (tok as unknown as { _tokenizer: { pre_tokenizer: { pre_tokenize_text(t: string): string[] } } })._tokenizer.pre_tokenizer;
    expect(pre.pre_tokenize_text('a b  ab')).toEqual(['▁a', '▁b', '▁', '▁ab']);
  });
});

describe('withSupportedNormalizers', () => {
  it('rewrites Nmt (unknown to transformers.js) into Replaces with its effect', () => {
    const tok = build(tokenizerJson({ type: 'Sequence', normalizers: [{ type: 'Nmt' }, { type: 'NFKC' }] }));
    expect(normalize(tok, 'a\u0007b\u200bc\td\u2581e')).toBe('ab c d e');
    expect(normalize(tok, '👨\u200d👩')).toBe('👨 👩'); // Nmt, unlike nmt_nfkc's table, does space the joiner
  });
});
