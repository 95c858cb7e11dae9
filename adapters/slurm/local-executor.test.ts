import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { clusterProfileSchema } from '../../domain/spec';
import type { LocalClusterConfig } from '../../temporal.config';
import { InvalidJobRequestError } from './errors';
import { LocalExecutor } from './local-executor';
import type { TrainingJobRequest } from './port';

// A stand-in train.py (run by /bin/sh): prints its arguments, honours SLURM_ARRAY_TASK_ID,
// fails for trial 1, and writes DONE like the real one.
const fakeTrain = `
out=""; while [ $# -gt 0 ]; do [ "$1" = --out-dir ] && out=$2; shift; done
echo "train args ok, task=\${SLURM_ARRAY_TASK_ID:-none}"
[ "\${SLURM_ARRAY_TASK_ID:-}" = 1 ] && { echo "trial 1 diverged" >&2; exit 4; }
touch "$out/DONE"
`;

function setup() {
  const base = mkdtempSync(path.join(tmpdir(), 'mlc-local-'));
  const codeDir = path.join(base, 'code');
  mkdirSync(path.join(codeDir, 'slurm'), { recursive: true });
  writeFileSync(path.join(codeDir, 'slurm/train.py'), fakeTrain);
  const config: LocalClusterConfig = {
    executor: 'local',
    codeDir,
    artifactsRoot: path.join(base, 'artifacts'),
    python: '/bin/sh',
    pollIntervalMs: 50,
  };
  return { config, executor: new LocalExecutor(config) };
}
const request = (key: string, extra: Partial<TrainingJobRequest> = {}): TrainingJobRequest => ({
  key,
  runDir: `runs/${key}`,
  dataDir: 'data',
  configFile: `runs/${key}/config.json`,
  profile: clusterProfileSchema.parse({}),
  ...extra,
});

describe('LocalExecutor', () => {
  it('runs train.py as a detached process that writes the run folder, and finds it again by key', async () => {
    const { config, executor } = setup();
    const sub = await executor.submit(request('ok'));
    expect(sub).toEqual({ jobId: expect.stringMatching(/^local-\d+$/), reused: false });
    const states: string[] = [];
    const final = await executor.waitFor(sub.jobId, { onUpdate: (s) => states.push(s.state) });
    expect(final).toMatchObject({ state: 'COMPLETED', phase: 'succeeded', exitCode: 0 });
    expect(states.at(-1)).toBe('COMPLETED');
    expect(existsSync(path.join(config.artifactsRoot, 'runs/ok/DONE'))).toBe(true);
    expect(await executor.logTail('runs/ok', sub.jobId)).toBe('train args ok, task=none\n');
    expect(JSON.parse(readFileSync(path.join(config.artifactsRoot, 'runs/ok/job.json'), 'utf8'))).toMatchObject({ key: 'ok', jobId: sub.jobId });
    await expect(executor.submit(request('ok'))).resolves.toEqual({ jobId: sub.jobId, reused: true });
    // A restarted worker (a new executor) still knows how the job ended.
    expect((await new LocalExecutor(config).status([sub.jobId])).get(sub.jobId)).toMatchObject({ state: 'COMPLETED' });
  });

  it('reports a failing script with its exit code and log', async () => {
    const { executor } = setup();
    const sub = await executor.submit(request('bad', { command: ['/bin/sh', '-c', 'echo "ValueError: no labels" >&2; exit 3'] }));
    await expect(executor.waitFor(sub.jobId)).resolves.toMatchObject({
      state: 'FAILED',
      phase: 'failed',
      exitCode: 3,
      reason: expect.stringMatching(/code 3/),
    });
    expect(await executor.logTail('runs/bad', sub.jobId, 5)).toContain('ValueError: no labels');
  });

  it('cancels the whole process group', async () => {
    const { executor } = setup();
    const sub = await executor.submit(request('long', { command: ['/bin/sh', '-c', 'sleep 30'] }));
    await new Promise((r) => setTimeout(r, 100));
    expect((await executor.status([sub.jobId])).get(sub.jobId)).toMatchObject({ state: 'RUNNING' });
    await executor.cancel(sub.jobId);
    await expect(executor.waitFor(sub.jobId)).resolves.toMatchObject({ state: 'CANCELLED', phase: 'failed' });
    await expect(executor.cancel(sub.jobId)).resolves.toBeUndefined();
    await expect(executor.cancel('local-999999999')).resolves.toBeUndefined();
  });

  it('runs trials one by one with SLURM_ARRAY_TASK_ID; one failed trial does not fail the job', async () => {
    const { executor } = setup();
    const sub = await executor.submit(request('hp', { trialsFile: 'runs/hp/trials.json', trials: { count: 3, concurrency: 1 } }));
    const s = await executor.waitFor(sub.jobId);
    expect(s).toMatchObject({ phase: 'succeeded', state: 'COMPLETED' });
    expect(Object.values(s.tasks!).map((t) => t.state)).toEqual(['COMPLETED', 'FAILED', 'COMPLETED']);
    expect(await executor.logTail('runs/hp', sub.jobId)).toContain('trial 1 diverged');
  });

  it('adopts the process of a submit that died between spawning it and recording its pid', async () => {
    const { config, executor } = setup();
    const runDir = path.join(config.artifactsRoot, 'runs/orphan');
    mkdirSync(runDir, { recursive: true });
    writeFileSync(path.join(runDir, 'job.json'), JSON.stringify({ key: 'orphan', runDir: 'runs/orphan', startedAt: new Date().toISOString() }));
    const orphan = spawn('/bin/sh', ['-c', 'sleep 20'], { detached: true, stdio: 'ignore', env: { ...process.env, MLC_JOB_KEY: 'orphan' } });
    try {
      await new Promise((r) => setTimeout(r, 100));
      await expect(executor.submit(request('orphan'))).resolves.toEqual({ jobId: `local-${orphan.pid}`, reused: true });
    } finally {
      process.kill(-orphan.pid!, 'SIGKILL');
    }
  });

  it('refuses SLURM ids and paths outside the artifact root', async () => {
    const { executor } = setup();
    await expect(executor.status(['123'])).rejects.toBeInstanceOf(InvalidJobRequestError);
    await expect(executor.submit(request('x', { runDir: '../escape' }))).rejects.toBeInstanceOf(InvalidJobRequestError);
  });
});
