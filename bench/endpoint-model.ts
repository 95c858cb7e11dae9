// The model bench/endpoint.ts serves: the demo's architecture (examples/thai-sentiment.yaml's
// training params: sequence length, layers, widths, vocabulary), trained by the real
// slurm/train.py for one epoch on the integration tests' tiny data set, so it costs what the
// demo's model costs per text without the demo's minutes of training. Cached under the
// system temp folder by the tiny model's key (which follows the trainer's source) and the params.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parse } from 'yaml';
import { PYTHON, REPO_ROOT, TINY_LABELS, TINY_PARAMS, tinyModel, type TinyModel } from '../test/integration/helpers/tiny-model';

export const DEMO_SPEC = join(REPO_ROOT, 'examples/thai-sentiment.yaml');

/** Trains (or reuses) the demo-sized model; resolves to its folder. */
export async function demoSizedModel(): Promise<TinyModel & { params: Record<string, unknown> }> {
  const tiny = await tinyModel(); // its data, and its key: the trainer's source hash
  const spec = parse(await readFile(DEMO_SPEC, 'utf8')) as { training?: { params?: Record<string, unknown> } };
  const params = { ...TINY_PARAMS, ...spec.training?.params, epochs: 1 };
  const key = createHash('sha256')
    .update(JSON.stringify({ tiny: basename(tiny.dir), params }))
    .digest('hex')
    .slice(0, 16);
  const root = join(tmpdir(), 'mlc-bench-endpoint-model');
  const dir = join(root, key);
  if (existsSync(join(dir, 'DONE'))) return { ...tiny, dir, params };

  await mkdir(root, { recursive: true });
  const work = await mkdtemp(join(root, `${key}.tmp-`));
  const configPath = join(work, 'config.json');
  await writeFile(configPath, JSON.stringify({ labels: TINY_LABELS, datasetHash: `bench-${basename(tiny.dataDir)}`, pretrainedDir: null, params }));
  const out = join(work, 'out');
  const args = ['slurm/train.py', '--config', configPath, '--data-dir', tiny.dataDir, '--out-dir', out, '--cache-dir', join(work, 'cache')];
  const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const child = spawn(PYTHON, args, { cwd: REPO_ROOT, env: { ...process.env, PYTHONUNBUFFERED: '1', OMP_NUM_THREADS: '2' } });
    let text = '';
    child.stdout.on('data', (d) => (text += d));
    child.stderr.on('data', (d) => (text += d));
    child.on('error', reject);
    child.on('close', (c) => resolve({ code: c, output: text }));
  });
  if (code !== 0 || !existsSync(join(out, 'DONE'))) {
    await rm(work, { recursive: true, force: true });
    throw new Error(`slurm/train.py exited ${code} without DONE while building the bench model; its output ends:\n${output.slice(-4000)}`);
  }
  try {
    await rename(out, dir); // atomic: a concurrent bench either wins or finds DONE
  } catch (e) {
    if (!existsSync(join(dir, 'DONE'))) throw e;
  }
  await rm(work, { recursive: true, force: true });
  return { ...tiny, dir, params };
}
