import { writeFileSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { loadEncoder } from './adapters/scoring/onnx-scorer';
const dir = '/tmp/mlc-tiny-model/8df918b6a64d7d80';
const enc = await loadEncoder(dir);
const cps: number[] = [];
for (let c = 0; c <= 0x10ffff; c++) if (c < 0xd800 || c > 0xdfff) cps.push(c);
const texts = cps.map((c) => 'x' + String.fromCodePoint(c) + "'x1 " + String.fromCodePoint(c) + String.fromCodePoint(c) + ' 1' + String.fromCodePoint(c));
writeFileSync('/tmp/cps.json', JSON.stringify(texts));
execFileSync('.venv/bin/python', ['-c', `
import json, sys
sys.path.insert(0, 'slurm')
from pathlib import Path
from mlc_train.tokenizer import load_tokenizer
tok = load_tokenizer(Path(sys.argv[1]), 32)
texts = json.load(open('/tmp/cps.json'))
json.dump(tok(texts, truncation=True, max_length=32)["input_ids"], open('/tmp/cps-py.json','w'))
`, dir]);
const py = JSON.parse(readFileSync('/tmp/cps-py.json', 'utf8'));
const node = enc.encode(texts);
const bad: number[] = [];
texts.forEach((t, i) => { if (JSON.stringify(node[i]) !== JSON.stringify(py[i])) bad.push(cps[i]!); });
// group into ranges
const ranges: string[] = [];
for (let i = 0; i < bad.length; ) { let j = i; while (j + 1 < bad.length && bad[j + 1] === bad[j]! + 1) j++; ranges.push(bad[i]!.toString(16) + (j > i ? '-' + bad[j]!.toString(16) : '')); i = j + 1; }
console.log('differing code points', bad.length, 'ranges', ranges.length, ranges.join(' '));
