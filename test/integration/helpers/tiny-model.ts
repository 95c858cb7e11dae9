// A real model from the real slurm/train.py, small enough to train on a CPU in well under a
// minute: shared by the scoring and endpoint integration tests. It is cached under the system
// temp folder by a hash of the trainer's source, the data and the config, so it is trained
// once per change, not once per test file.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seededRandom } from '../../../domain/random';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const PYTHON = process.env.MLC_PYTHON ?? join(REPO_ROOT, '.venv/bin/python');
export const TINY_LABELS = ['neg', 'neu', 'pos'];

export const TINY_PARAMS = {
  epochs: 1,
  batchSize: 16,
  maxLength: 32,
  hiddenSize: 32,
  numLayers: 1,
  numHeads: 2,
  intermediateSize: 64,
  vocabSize: 400,
  lstmHidden: 16,
  numWorkers: 0,
  precision: 'fp32',
  seed: 7,
};

const words = {
  pos: ['ดีมาก', 'อร่อย', 'ชอบมาก', 'สุดยอด', 'ประทับใจ', 'น่ารัก', 'great', 'love it', 'awesome', '😊', '👍', '❤️', '555'],
  neg: ['แย่มาก', 'ไม่อร่อย', 'ผิดหวัง', 'ห่วย', 'ไม่ชอบ', 'เสียใจ', 'terrible', 'hate it', 'awful', '😡', '👎', '💔'],
  neu: ['วันนี้', 'ร้านนี้', 'ราคา', 'สั่งอาหาร', 'เปิดกี่โมง', 'ที่กรุงเทพ', 'today', 'the shop', 'price is', '🤔', '📍', 'ok'],
};
const fillers = ['ครับ', 'ค่ะ', 'นะ', 'จ้า', 'เลย', 'มากๆ', 'really', 'so', '!!', '...', '🙏🏽', '🇹🇭', ''];

/** Thai, English and emoji sentences whose label follows from their words; deterministic. */
export function tinyDataset(rows: number, seed: number): { text: string; label: string }[] {
  const random = seededRandom(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)]!;
  return Array.from({ length: rows }, () => {
    const label = pick(TINY_LABELS) as keyof typeof words;
    const parts = [pick(words.neu), pick(words[label]), pick(fillers), pick(words[label])];
    if (random() < 0.3) parts.reverse();
    return { text: parts.filter(Boolean).join(random() < 0.5 ? ' ' : ''), label };
  });
}

/** Texts that stress the tokenizer: Thai marks, emoji sequences, odd whitespace, long input. */
export const TOKENIZER_PROBES = [
  'อาหารอร่อยมากครับ 😊😊',
  'ไม่ชอบเลย แย่มากๆ 👎🏻',
  'วันนี้ไปกินข้าวที่สยามมา ราคา ๑๒๐ บาท',
  'the service was great ดีมาก!!!',
  'family 👨‍👩‍👧‍👦 flag 🇹🇭 keycap 1️⃣ heart ❤️',
  'ﾃｽﾄ ｆｕｌｌｗｉｄｔｈ café cafe\u0301 naïve',
  'tab\there  two  spaces\nnewline\r\nCRLF\u00a0nbsp\u200bzwsp',
  '  leading and trailing spaces  ',
  '',
  '5555555 ฮ่าๆๆๆๆ ??? ...!!!',
  'กรุงเทพมหานคร อมรรัตนโกสินทร์ มหินทรายุธยา มหาดิลกภพ นพรัตนราชธานีบูรีรมย์ อุดมราชนิเวศน์มหาสถาน '.repeat(3),
  '\u{1F600}\u{1F3FD} \u{10FFFF} \uFEFFbom',
  // Where JavaScript's \s and Oniguruma's disagree (NEL, BOM) next to a contraction.
  "ok\u0085'me \uFEFF'm so good",
  'special tokens in text: <s> </s> <pad> <mask> <unk> end',
];

/** Runs an inline Python script with the training venv, JSON in on stdin, JSON out on stdout. */
export async function runPython<T>(script: string, input: unknown, timeoutMs = 120_000): Promise<T> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(PYTHON, ['-c', script], { cwd: REPO_ROOT, env: { ...process.env, PYTHONUNBUFFERED: '1', OMP_NUM_THREADS: '2' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`python exited ${code}:\n${stderr.slice(-4000)}`));
      try {
        resolvePromise(JSON.parse(stdout) as T);
      } catch (e) {
        reject(new Error(`python printed no JSON (${(e as Error).message}); stderr:\n${stderr.slice(-2000)}`));
      }
    });
    child.stdin.end(JSON.stringify(input));
  });
}

function run(cmd: string, args: string[], options: { cwd: string; timeoutMs: number }): Promise<{ code: number | null; output: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { cwd: options.cwd, env: { ...process.env, PYTHONUNBUFFERED: '1', OMP_NUM_THREADS: '2' } });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, output });
    });
  });
}

async function trainerSourceHash(): Promise<string> {
  const h = createHash('sha256');
  const pkg = join(REPO_ROOT, 'slurm/mlc_train');
  for (const f of [
    join(REPO_ROOT, 'slurm/train.py'),
    ...(await readdir(pkg))
      .filter((n) => n.endsWith('.py'))
      .sort()
      .map((n) => join(pkg, n)),
  ]) {
    h.update(f).update(await readFile(f));
  }
  return h.digest('hex');
}

export interface TinyModel {
  dir: string;
  labels: string[];
  /** Where the data it was trained on lies (train/valid/test.jsonl). */
  dataDir: string;
}

/** Trains (or reuses) the tiny model; resolves to its OUT_DIR. */
export async function tinyModel(): Promise<TinyModel> {
  if (!existsSync(PYTHON)) throw new Error(`${PYTHON} not found; run scripts/setup.sh (or set MLC_PYTHON) to build the training venv`);
  if (!existsSync(join(REPO_ROOT, 'slurm/train.py'))) throw new Error('slurm/train.py not found');
  const splits = { train: tinyDataset(300, 1), valid: tinyDataset(60, 2), test: tinyDataset(60, 3) };
  const data = Object.fromEntries(Object.entries(splits).map(([k, rows]) => [k, rows.map((r) => JSON.stringify(r)).join('\n') + '\n']));
  const datasetHash = createHash('sha256').update(JSON.stringify(data)).digest('hex');
  const config = { labels: TINY_LABELS, datasetHash, pretrainedDir: null, params: TINY_PARAMS };
  const key = createHash('sha256')
    .update(JSON.stringify({ v: 1, source: await trainerSourceHash(), config }))
    .digest('hex')
    .slice(0, 16);

  const root = join(tmpdir(), 'mlc-tiny-model');
  const dir = join(root, key);
  const dataDir = join(root, `data-${datasetHash.slice(0, 16)}`);
  if (!existsSync(join(dataDir, 'test.jsonl'))) {
    await mkdir(dataDir, { recursive: true });
    for (const [name, text] of Object.entries(data)) await writeFile(join(dataDir, `${name}.jsonl`), text);
  }
  if (existsSync(join(dir, 'DONE'))) return { dir, labels: TINY_LABELS, dataDir };

  await mkdir(root, { recursive: true });
  const work = await mkdtemp(join(root, `${key}.tmp-`));
  const configPath = join(work, 'config.json');
  await writeFile(configPath, JSON.stringify(config));
  const out = join(work, 'out');
  const result = await run(PYTHON, ['slurm/train.py', '--config', configPath, '--data-dir', dataDir, '--out-dir', out, '--cache-dir', join(work, 'cache')], {
    cwd: REPO_ROOT,
    timeoutMs: 240_000,
  });
  if (result.code !== 0 || !existsSync(join(out, 'DONE'))) {
    await rm(work, { recursive: true, force: true });
    throw new Error(`slurm/train.py exited ${result.code} without DONE; its output ends:\n${result.output.slice(-4000)}`);
  }
  try {
    await rename(out, dir); // atomic: a concurrent run either wins or finds DONE
  } catch (e) {
    if (!existsSync(join(dir, 'DONE'))) throw e;
  }
  await rm(work, { recursive: true, force: true });
  return { dir, labels: TINY_LABELS, dataDir };
}
