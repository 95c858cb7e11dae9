// The training job's durability on the real cluster: a requeued train.py resumes from its
// checkpoint instead of starting over, and a job over its memory is stopped with a hint.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlurmExecutor } from '../../adapters/slurm/executor';
import type { JobStatus, TrainingJobRequest } from '../../adapters/slurm/port';
import { shellCommand } from '../../adapters/slurm/shell';
import { clusterProfileSchema } from '../../domain/spec';
import { loadConfig, type SlurmClusterConfig } from '../../temporal.config';
import { TINY_LABELS, TINY_PARAMS, tinyDataset } from './helpers/tiny-model';

const config = loadConfig().clusters.local as SlurmClusterConfig;
const run = `it-train-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
const abs = (p: string) => path.join(config.artifactsRoot, p);
let executor: SlurmExecutor;
const keys: string[] = [];

function request(name: string, extra: Partial<TrainingJobRequest>): TrainingJobRequest {
  const key = `${run}-${name}`;
  keys.push(key);
  const runDir = `it-slurm/${run}/${name}`;
  mkdirSync(abs(runDir), { recursive: true });
  return {
    key,
    runDir,
    dataDir: `it-slurm/${run}/data`,
    configFile: `${runDir}/config.json`,
    profile: clusterProfileSchema.parse({ memory: '3G', timeLimit: '00:10:00' }),
    ...extra,
  };
}

beforeAll(() => {
  executor = new SlurmExecutor(config, { watcher: { intervalMs: 500 } });
  const data = abs(`it-slurm/${run}/data`);
  mkdirSync(data, { recursive: true });
  const splits = { train: tinyDataset(1200, 11), valid: tinyDataset(60, 12), test: tinyDataset(60, 13) };
  for (const [name, rows] of Object.entries(splits)) writeFileSync(path.join(data, `${name}.jsonl`), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
});

afterAll(async () => {
  await Promise.all(keys.map((k) => executor.runner.exec(shellCommand(['scancel', `--name=mlc-${k}`]), { timeoutMs: 30_000 }).catch(() => undefined)));
  await executor.close();
});

describe('train.py on the dev cluster', () => {
  it('resumes from its checkpoint after a forced scontrol requeue', async () => {
    const req = request('resume', {});
    // Small batches and frequent checkpoints: several epochs of steps to interrupt.
    writeFileSync(
      abs(req.configFile),
      JSON.stringify({
        labels: TINY_LABELS,
        datasetHash: run,
        pretrainedDir: null,
        params: { ...TINY_PARAMS, epochs: 6, batchSize: 4, checkpointEverySteps: 20, patience: 10 },
      }),
    );
    const { jobId } = await executor.submit(req);
    const states: JobStatus[] = [];
    const done = executor.waitFor(jobId, { onUpdate: (s) => states.push(s) });
    const log = () => executor.logTail(req.runDir, jobId, 400).catch(() => '');
    for (let i = 0; i < 600 && !/checkpoint saved \(reason: interval\)/.test(await log()); i++) await new Promise((r) => setTimeout(r, 500));
    expect(await log()).toMatch(/checkpoint saved/);
    const rq = await executor.runner.exec(`scontrol requeue ${jobId}`, { timeoutMs: 30_000 });
    expect(rq.code, rq.stderr).toBe(0);
    // A requeued job waits ~2 minutes before it may start; let it go now.
    for (let i = 0; i < 120 && !/resuming from checkpoint/.test(await log()); i++) {
      await executor.runner.exec(`scontrol update JobId=${jobId} StartTime=now`, { timeoutMs: 30_000 });
      await new Promise((r) => setTimeout(r, 1000));
    }
    const final = await done;
    const text = await log();
    expect(final, text).toMatchObject({ state: 'COMPLETED', phase: 'succeeded', restarts: 1 });
    const resumedAt = Number(/resuming from checkpoint at step (\d+)/.exec(text)?.[1]);
    expect(resumedAt, text).toBeGreaterThan(0);
    expect(text).toMatch(/^done: /m);
  });

  it('stops a job that exceeds its memory, with a hint about memory', async () => {
    const req = request('oom', {
      profile: clusterProfileSchema.parse({ memory: '100M', timeLimit: '00:03:00' }),
      command: ['python3', '-c', 'import time\nx = bytearray(600 * 1024 * 1024)\ntime.sleep(20)'],
    });
    const { jobId } = await executor.submit(req);
    const final = await executor.waitFor(jobId);
    expect(final.phase).toBe('failed');
    expect(final.retryable).toBe(false);
    expect(final.reason ?? '').toMatch(/memory/);
  });
});
