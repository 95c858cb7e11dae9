import * as transformers from '@huggingface/transformers';
import { readFileSync } from 'node:fs';
const dir = '/tmp/mlc-tiny-model/8df918b6a64d7d80';
const tok = new transformers.PreTrainedTokenizer(JSON.parse(readFileSync(dir + '/tokenizer.json', 'utf8')), JSON.parse(readFileSync(dir + '/tokenizer_config.json', 'utf8')));
const pre = (tok as any)._tokenizer.pre_tokenizer;
console.log(Object.keys((tok as any)._tokenizer), pre?.constructor?.name, Object.keys(pre ?? {}), pre?.pattern?.source);
console.log(/'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu.source);
import { alignByteLevelWhitespace } from './adapters/scoring/onnx-scorer';
console.log(pre.pattern instanceof RegExp, !!pre.byte_encoder, alignByteLevelWhitespace(tok), pre.pattern.source.slice(0, 80));
