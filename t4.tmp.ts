import * as transformers from '@huggingface/transformers';
import { readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
const dir = '/tmp/mlc-tiny-model/8df918b6a64d7d80';
const tok = new transformers.PreTrainedTokenizer(JSON.parse(readFileSync(dir + '/tokenizer.json', 'utf8')), JSON.parse(readFileSync(dir + '/tokenizer_config.json', 'utf8')));
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
console.log('differing code points', bad.length, bad.slice(0, 200).join(' '));
