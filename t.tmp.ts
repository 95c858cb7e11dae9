import * as transformers from '@huggingface/transformers';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
const dir = '/tmp/mlc-tiny-model/8df918b6a64d7d80';
const tok = new transformers.PreTrainedTokenizer(JSON.parse(readFileSync(dir + '/tokenizer.json', 'utf8')), JSON.parse(readFileSync(dir + '/tokenizer_config.json', 'utf8')));
const full = "Д٢\n :ข?\u0001な่어'me";
const cands: string[] = [];
for (let i = 0; i < full.length; i++) cands.push(full.slice(i));
cands.push("? 'me", "?'me", ":'me", "\n'me", " 'me", "x 'me", "ab'me", "?a'me", "?ก'me", "?어'me", "?\u0001'me", "?x\u0001'me");
const py = JSON.parse(execFileSync('.venv/bin/python', ['-c', `
import json, sys
from tokenizers import Tokenizer
tok = Tokenizer.from_file(sys.argv[1] + '/tokenizer.json')
print(json.dumps([[p for p,_ in tok.pre_tokenizer.pre_tokenize_str(t)] for t in json.load(sys.stdin)]))
`, dir], { input: JSON.stringify(cands) }).toString());
const pre = (tok as any)._tokenizer.pre_tokenizer;
cands.forEach((c, i) => { const n = pre.pre_tokenize_text ? pre.pre_tokenize_text(c) : pre(c); const same = JSON.stringify(n) === JSON.stringify(py[i]); console.log(same ? 'ok ' : 'BAD', JSON.stringify(c), same ? '' : JSON.stringify(n) + ' vs ' + JSON.stringify(py[i])); });
