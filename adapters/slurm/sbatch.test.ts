import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { clusterProfileSchema } from '../../domain/spec';
import type { ClusterProfile } from '../../domain/spec';
import { InvalidJobRequestError } from './errors';
import type { TrainingJobRequest } from './port';
import { parseJobIdFile, renderBatchScript, resolveJob, submitCommand } from './sbatch';

const mi100Cluster = { codeDir: '/home/mlc/mlc', artifactsRoot: '/mnt/truenas/mlc', python: '/home/mlc/venv/bin/python' };
const devCluster = { codeDir: '/work/main', artifactsRoot: '/work/main/.data/artifacts', python: '/work/main/.venv/bin/python' };
const mi100 = clusterProfileSchema.parse({
  partition: 'mi100',
  account: 'ml-research',
  qos: 'normal',
  gres: 'gpu:mi100:4',
  cpusPerTask: 16,
  memory: '64G',
  timeLimit: '2-00:00:00',
  modules: ['rocm/5.7.1'],
  checkpointSignalSeconds: 300,
  extraSbatch: ['--exclusive'],
});
const key = 'thai-sentiment-g1-a1';
const req: TrainingJobRequest = {
  key,
  runDir: `models/thai-sentiment/runs/${key}`,
  dataDir: 'datasets/abc123',
  configFile: `models/thai-sentiment/runs/${key}/config.json`,
  profile: mi100,
};
const expectInvalid = (fn: () => unknown, field: string) => {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(InvalidJobRequestError);
  expect((err as InvalidJobRequestError).field).toBe(field);
};

describe('renderBatchScript', () => {
  it('renders the MI-100 profile (golden)', () => {
    expect(renderBatchScript(req, mi100Cluster).split('\n')).toEqual([
      '#!/bin/bash',
      '#SBATCH --job-name=mlc-thai-sentiment-g1-a1',
      '#SBATCH --comment=mlc-key=thai-sentiment-g1-a1',
      '#SBATCH --output=/mnt/truenas/mlc/models/thai-sentiment/runs/thai-sentiment-g1-a1/slurm-%j.out',
      '#SBATCH --partition=mi100',
      '#SBATCH --account=ml-research',
      '#SBATCH --qos=normal',
      '#SBATCH --gres=gpu:mi100:4',
      '#SBATCH --cpus-per-task=16',
      '#SBATCH --mem=64G',
      '#SBATCH --time=2-00:00:00',
      '#SBATCH --signal=B:USR1@300',
      '#SBATCH --requeue',
      '#SBATCH --open-mode=append',
      '#SBATCH --exclusive',
      '',
      'set -euo pipefail',
      '# Batch shells are not login shells: find the module command if the profile did not define it.',
      'set +u',
      'if ! command -v module >/dev/null 2>&1; then',
      '  for init in /etc/profile.d/lmod.sh /etc/profile.d/modules.sh /usr/share/lmod/lmod/init/bash /usr/share/modules/init/bash; do',
      '    if [ -f "$init" ]; then . "$init"; break; fi',
      '  done',
      'fi',
      'if ! command -v module >/dev/null 2>&1; then',
      '  echo "mlc: profile.modules is set but there is no module command on $(hostname)" >&2',
      '  exit 1',
      'fi',
      'module load rocm/5.7.1',
      'set -u',
      'cd /home/mlc/mlc',
      'exec /home/mlc/venv/bin/python slurm/train.py --config /mnt/truenas/mlc/models/thai-sentiment/runs/thai-sentiment-g1-a1/config.json --data-dir /mnt/truenas/mlc/datasets/abc123 --out-dir /mnt/truenas/mlc/models/thai-sentiment/runs/thai-sentiment-g1-a1 --cache-dir /mnt/truenas/mlc/cache',
      '',
    ]);
  });

  it('renders the local CPU profile with its defaults (golden)', () => {
    const cpu = clusterProfileSchema.parse({ partition: 'cpu' });
    expect(renderBatchScript({ ...req, profile: cpu }, devCluster).split('\n')).toEqual([
      '#!/bin/bash',
      '#SBATCH --job-name=mlc-thai-sentiment-g1-a1',
      '#SBATCH --comment=mlc-key=thai-sentiment-g1-a1',
      '#SBATCH --output=/work/main/.data/artifacts/models/thai-sentiment/runs/thai-sentiment-g1-a1/slurm-%j.out',
      '#SBATCH --partition=cpu',
      '#SBATCH --cpus-per-task=1',
      '#SBATCH --mem=2G',
      '#SBATCH --time=01:00:00',
      '#SBATCH --signal=B:USR1@120',
      '#SBATCH --requeue',
      '#SBATCH --open-mode=append',
      '',
      'set -euo pipefail',
      'cd /work/main',
      'exec /work/main/.venv/bin/python slurm/train.py --config /work/main/.data/artifacts/models/thai-sentiment/runs/thai-sentiment-g1-a1/config.json --data-dir /work/main/.data/artifacts/datasets/abc123 --out-dir /work/main/.data/artifacts/models/thai-sentiment/runs/thai-sentiment-g1-a1 --cache-dir /work/main/.data/artifacts/cache',
      '',
    ]);
  });

  it('turns trials into a throttled array with one log per task', () => {
    const script = renderBatchScript({ ...req, trialsFile: 'models/t/trials.json', trials: { count: 8, concurrency: 2 } }, mi100Cluster);
    expect(script).toContain('#SBATCH --array=0-7%2\n');
    expect(script).toContain(`#SBATCH --output=/mnt/truenas/mlc/${req.runDir}/slurm-%A_%a.out\n`);
    expect(script).toContain(' --trials /mnt/truenas/mlc/models/t/trials.json\n');
  });

  it('keeps shell metacharacters in config values inert: they reach the program as literal text', () => {
    const base = mkdtempSync(path.join(tmpdir(), 'mlc-sbatch-'));
    const marker = path.join(base, 'pwned');
    const codeDir = path.join(base, `$(touch ${marker}) it's \`id\`; dir`);
    mkdirSync(codeDir, { recursive: true });
    const argv = [
      process.execPath,
      '-e',
      'console.log(JSON.stringify([process.cwd(), ...process.argv.slice(1)]))',
      '$(touch ' + marker + ')',
      "'; rm -rf / #",
      'a\nb',
    ];
    const script = renderBatchScript({ ...req, profile: clusterProfileSchema.parse({}), command: argv }, { ...devCluster, codeDir, artifactsRoot: base });
    const file = path.join(base, 'job.sh');
    writeFileSync(file, script);
    const out = JSON.parse(execFileSync('bash', [file], { encoding: 'utf8' })) as string[];
    expect(out).toEqual([codeDir, '$(touch ' + marker + ')', "'; rm -rf / #", 'a\nb']);
    expect(existsSync(marker)).toBe(false);
  });

  it('loads modules through the module function, failing loudly when there is none', () => {
    const base = mkdtempSync(path.join(tmpdir(), 'mlc-sbatch-'));
    const script = renderBatchScript(
      { ...req, profile: clusterProfileSchema.parse({ modules: ['rocm/5.7.1'] }), command: ['true'] },
      { ...devCluster, codeDir: base, artifactsRoot: base },
    );
    writeFileSync(path.join(base, 'job.sh'), script);
    let stderr = '';
    try {
      execFileSync('bash', [path.join(base, 'job.sh')], { encoding: 'utf8', stdio: 'pipe', env: { PATH: '/usr/bin:/bin' } });
    } catch (e) {
      stderr = String((e as { stderr: string }).stderr);
    }
    expect(stderr).toMatch(/profile\.modules is set but there is no module command/);
    const withModule = `module() { echo "module $*"; }\n${script.replace('#!/bin/bash\n', '')}`;
    writeFileSync(path.join(base, 'job2.sh'), withModule);
    expect(execFileSync('bash', [path.join(base, 'job2.sh')], { encoding: 'utf8' })).toBe('module load rocm/5.7.1\n');
  });
});

describe('validation of values that reach #SBATCH lines', () => {
  const withProfile = (p: Partial<ClusterProfile>) => ({ ...req, profile: { ...mi100, ...p } });

  it('refuses values that got around zod: newlines, spaces, quotes', () => {
    expectInvalid(() => renderBatchScript(withProfile({ partition: 'mi100\n#SBATCH --uid=0' }), mi100Cluster), 'profile.partition');
    expectInvalid(() => renderBatchScript(withProfile({ account: 'a b' }), mi100Cluster), 'profile.account');
    expectInvalid(() => renderBatchScript(withProfile({ gres: 'gpu:"x"' }), mi100Cluster), 'profile.gres');
    expectInvalid(() => renderBatchScript(withProfile({ memory: '4G\necho' }), mi100Cluster), 'profile.memory');
    expectInvalid(() => renderBatchScript(withProfile({ timeLimit: '1:00' }), mi100Cluster), 'profile.timeLimit');
    expectInvalid(() => renderBatchScript(withProfile({ modules: ['rocm; id'] }), mi100Cluster), 'profile.modules[]');
    expectInvalid(() => renderBatchScript(withProfile({ cpusPerTask: 1.5 }), mi100Cluster), 'profile.cpusPerTask');
    expectInvalid(() => renderBatchScript(withProfile({ checkpointSignalSeconds: 5 }), mi100Cluster), 'profile.checkpointSignalSeconds');
  });

  it('refuses extra options that would break idempotency or the log', () => {
    for (const o of ['--job-name=x', '--output=/tmp/x', '--array=0-9', '--comment=x', '--open-mode=truncate', '--signal=USR2@1']) {
      expectInvalid(() => renderBatchScript(withProfile({ extraSbatch: [o] }), mi100Cluster), 'profile.extraSbatch[]');
    }
    expect(renderBatchScript(withProfile({ extraSbatch: ['--constraint=mi100', '--exclusive'] }), mi100Cluster)).toContain('#SBATCH --constraint=mi100\n');
  });

  it('refuses a run folder that cannot appear unquoted in --output', () => {
    expectInvalid(() => resolveJob({ ...req, runDir: 'runs/a b' }, mi100Cluster), 'runDir');
    expectInvalid(() => resolveJob({ ...req, runDir: 'runs/$(touch x)' }, mi100Cluster), 'runDir');
    expectInvalid(() => resolveJob({ ...req, runDir: 'runs/%j' }, mi100Cluster), 'runDir');
    expectInvalid(() => resolveJob(req, { ...mi100Cluster, artifactsRoot: '/mnt/ml artifacts' }), 'runDir');
  });

  it('refuses paths that leave the artifact root, bad keys and half-specified trials', () => {
    expectInvalid(() => resolveJob({ ...req, runDir: '../../etc' }, mi100Cluster), 'runDir');
    expectInvalid(() => resolveJob({ ...req, dataDir: '/etc' }, mi100Cluster), 'dataDir');
    expectInvalid(() => resolveJob({ ...req, configFile: 'a\nb' }, mi100Cluster), 'configFile');
    expectInvalid(() => resolveJob({ ...req, key: 'a key' }, mi100Cluster), 'key');
    expectInvalid(() => resolveJob({ ...req, key: '' }, mi100Cluster), 'key');
    expectInvalid(() => resolveJob({ ...req, trialsFile: 't.json' }, mi100Cluster), 'trials.count');
    expectInvalid(() => resolveJob({ ...req, trials: { count: 2, concurrency: 1 } }, mi100Cluster), 'trialsFile');
    expectInvalid(() => resolveJob(req, { ...mi100Cluster, artifactsRoot: 'relative' }), 'cluster.artifactsRoot');
  });
});

describe('submitCommand', () => {
  it('creates the run folder, pipes the script to sbatch and records the id on the cluster side', () => {
    const base = mkdtempSync(path.join(tmpdir(), 'mlc-submit-'));
    const bin = path.join(base, 'bin');
    mkdirSync(bin);
    // A stand-in sbatch: keeps the script it was given, answers like --parsable on a federation.
    writeFileSync(path.join(bin, 'sbatch'), `#!/bin/sh\n[ "$1" = --parsable ] || exit 9\ncat > "${base}/got.sh"\necho "4242;mlc-local"\n`);
    chmodSync(path.join(bin, 'sbatch'), 0o755);
    const job = resolveJob(req, { ...mi100Cluster, artifactsRoot: base });
    const script = renderBatchScript(req, { ...mi100Cluster, artifactsRoot: base });
    const out = execFileSync('sh', ['-c', submitCommand(job, key)], { input: script, encoding: 'utf8', env: { PATH: `${bin}:/usr/bin:/bin` } });
    expect(out).toBe('4242\n');
    expect(readFileSync(path.join(base, 'got.sh'), 'utf8')).toBe(script);
    expect(readFileSync(job.submitRecord, 'utf8')).toBe(`4242 mlc-key=${key}\n`);
    expect(parseJobIdFile(readFileSync(job.submitRecord, 'utf8'))).toEqual({ jobId: '4242', key });
  });

  it("reads both our id record and train.py's bare $SLURM_JOB_ID", () => {
    expect(parseJobIdFile('77\n')).toEqual({ jobId: '77' });
    expect(parseJobIdFile('garbage')).toBeUndefined();
  });
});
