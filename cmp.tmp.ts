import { loadEncoder, loadScorer } from './adapters/scoring/onnx-scorer';
import { TOKENIZER_PROBES, tinyDataset } from './test/integration/helpers/tiny-model';
import { execFileSync } from 'node:child_process';
const dir = '/tmp/mlc-tiny-model/8df918b6a64d7d80';
const texts = [...TOKENIZER_PROBES, ...tinyDataset(50, 9).map((r) => r.text)];
const enc = await loadEncoder(dir);
const node = enc.encode(texts);
const py = JSON.parse(execFileSync('.venv/bin/python', ['-c', `
import json, sys
sys.path.insert(0, 'slurm')
from pathlib import Path
from mlc_train.tokenizer import load_tokenizer
tok = load_tokenizer(Path(sys.argv[1]), 32)
texts = json.load(sys.stdin)
print(json.dumps(tok(texts, truncation=True, max_length=32, add_special_tokens=True)["input_ids"]))
`, dir], { input: JSON.stringify(texts) }).toString());
let bad = 0;
texts.forEach((t, i) => { if (JSON.stringify(node[i]) !== JSON.stringify(py[i])) { bad++; console.log(JSON.stringify(t), '\n node', JSON.stringify(node[i]), '\n py  ', JSON.stringify(py[i])); } });
console.log('mismatches', bad, 'of', texts.length, enc.frame, enc.padId, enc.maxLength);
const s = await loadScorer(dir);
console.log(await s.predict(texts.slice(0, 3)));
await s.close();
