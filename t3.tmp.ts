import * as transformers from '@huggingface/transformers';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
const dir = '/tmp/mlc-tiny-model/8df918b6a64d7d80';
const tok = new transformers.PreTrainedTokenizer(JSON.parse(readFileSync(dir + '/tokenizer.json', 'utf8')), JSON.parse(readFileSync(dir + '/tokenizer_config.json', 'utf8')));
const cands = ["\u0085'me", "\u0085's", "x\u0085'me", "\u2028'me", "\u00a0'me", " 'me", "\u3000'me", "\u2003'me", "\u0085'm", "\u0085'x", "\u0085 x", "\u0085x"];
const py = JSON.parse(execFileSync('.venv/bin/python', ['-c', `
import json, sys
from tokenizers import Tokenizer
tok = Tokenizer.from_file(sys.argv[1] + '/tokenizer.json')
print(json.dumps([[p for p,_ in tok.pre_tokenizer.pre_tokenize_str(t)] for t in json.load(sys.stdin)]))
`, dir], { input: JSON.stringify(cands) }).toString());
const pre = (tok as any)._tokenizer.pre_tokenizer;
const esc = (s: string) => JSON.stringify(s).replace(/[^\x20-\x7e]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
cands.forEach((c, i) => { const n = pre.pre_tokenize_text(c); const same = JSON.stringify(n) === JSON.stringify(py[i]); console.log(same ? 'ok ' : 'BAD', esc(c), same ? esc(JSON.stringify(n)) : esc(JSON.stringify(n)) + ' vs ' + esc(JSON.stringify(py[i]))); });
