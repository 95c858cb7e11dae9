// Does the Node scorer tokenize a model folder's texts exactly as train.py does? Run it on a
// pretrained folder (WangchanBERTa, say) before training on it, and on any folder you serve: a
// mismatch means the served model sees other ids than the trained one, a skew that shows up
// nowhere else (predictions stay confident, only worse).
//
//   npx tsx scripts/tokenizer-parity.ts FOLDER [TEXTS.jsonl] [--max-length N]
//
// TEXTS.jsonl: one {"text": …} per line (default: the corpus's valid split). Exit status 1 when
// any text's ids differ; the first few are printed with both id lists.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadEncoder } from '../adapters/scoring/onnx-scorer';
import { repoRoot } from '../temporal.config';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { 'max-length': { type: 'string', default: '128' } } });
const [folderArg, textsArg] = positionals;
if (!folderArg) {
  console.error('usage: npx tsx scripts/tokenizer-parity.ts FOLDER [TEXTS.jsonl] [--max-length N]');
  process.exit(2);
}
const folder = resolve(folderArg);
const textsFile = resolve(textsArg ?? join(repoRoot, 'data/wisesight/valid.jsonl'));
const maxLength = Number(values['max-length']);
for (const f of ['tokenizer.json', 'tokenizer_config.json']) {
  if (!existsSync(join(folder, f))) {
    console.error(`${join(folder, f)} not found: FOLDER must hold a Hugging Face fast tokenizer (save_pretrained writes both files)`);
    process.exit(2);
  }
}
const texts = readFileSync(textsFile, 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l, i) => {
    const text = (JSON.parse(l) as { text?: unknown }).text;
    if (typeof text !== 'string') throw new Error(`${textsFile}:${i + 1}: no string "text" field`);
    return text;
  });

// train.py's own loader (mlc_train.tokenizer.load_tokenizer), with the Rust tokenizers library.
const python = spawnSync(
  join(repoRoot, '.venv/bin/python'),
  [
    '-c',
    `import json, sys; sys.path.insert(0, 'slurm')
from pathlib import Path
from mlc_train.tokenizer import load_tokenizer
req = json.load(sys.stdin)
tok = load_tokenizer(Path(req['folder']), req['maxLength'])
print(json.dumps(tok(req['texts'], truncation=True, max_length=req['maxLength'])['input_ids']))`,
  ],
  { cwd: repoRoot, input: JSON.stringify({ folder, texts, maxLength }), maxBuffer: 1 << 30, encoding: 'utf8' },
);
if (python.status !== 0) {
  console.error(`Python's tokenizer failed (run scripts/setup.sh for the .venv):\n${python.stderr.slice(-3000)}`);
  process.exit(2);
}
const expected = JSON.parse(python.stdout) as number[][];
const actual = (await loadEncoder(folder, { maxLength })).encode(texts);
const differing = texts.flatMap((text, i) =>
  JSON.stringify(actual[i]) === JSON.stringify(expected[i]) ? [] : [{ text, node: actual[i], python: expected[i] }],
);
for (const d of differing.slice(0, 5))
  console.log(`✗ ${JSON.stringify(d.text).slice(0, 100)}\n  node   ${JSON.stringify(d.node)}\n  python ${JSON.stringify(d.python)}`);
console.log(
  `${differing.length ? '✗' : '✓'} ${texts.length - differing.length} of ${texts.length} texts tokenized identically by Node and Python (${folder}, maxLength ${maxLength})`,
);
process.exit(differing.length ? 1 : 0);
