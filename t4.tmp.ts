import * as transformers from '@huggingface/transformers';
import { readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
const dir = '/tmp/mlc-tiny-model/8df918b6a64d7d80';
const tok = new transformers.PreTrainedTokenizer(JSON.parse(readFileSync(dir + '/tokenizer.json', 'utf8')), JSON.parse(readFileSync(dir + '/tokenizer_config.json', 'utf8')));
import { alignByteLevelWhitespace } from './adapters/scoring/onnx-scorer';
console.log('patched', alignByteLevelWhitespace(tok));
const pre = (tok as any)._tokenizer.pre_tokenizer;
const cps: number[] = [];
for (let c = 0; c <= 0x10ffff; c++) if (c < 0xd800 || c > 0xdfff) cps.push(c);
const texts = cps.map((c) => 'x' + String.fromCodePoint(c) + "'x1");
writeFileSync('/tmp/cps.json', JSON.stringify(texts));
const out = execFileSync('.venv/bin/python', ['-c', `
import json, sys
from tokenizers import Tokenizer
tok = Tokenizer.from_file(sys.argv[1] + '/tokenizer.json')
texts = json.load(open('/tmp/cps.json'))
json.dump([[p for p,_ in tok.pre_tokenizer.pre_tokenize_str(t)] for t in texts], open('/tmp/cps-py.json','w'))
`, dir]);
const py = JSON.parse(readFileSync('/tmp/cps-py.json', 'utf8'));
const bad: string[] = [];
texts.forEach((t, i) => { const n = pre.pre_tokenize_text(t); if (JSON.stringify(n) !== JSON.stringify(py[i])) bad.push(cps[i]!.toString(16)); });
const b = bad.map((x) => parseInt(x, 16)); const ranges: string[] = []; for (let i = 0; i < b.length; ) { let j = i; while (j + 1 < b.length && b[j + 1] === b[j]! + 1) j++; ranges.push(b[i]!.toString(16) + (j > i ? '-' + b[j]!.toString(16) : '')); i = j + 1; } console.log('differing', bad.length, ranges.join(' '));
