// The SLURM executor against the real one-node cluster over the real sshd that
// scripts/services.sh starts. Jobs are tiny shell commands (the request's `command` test seam),
// so the file takes about two minutes, most of it the one job that must hit its time limit,
// which runs alongside the other tests. The dev node has 2 CPUs and is shared with other
// test files: jobs may queue for a while, and the assertions allow for it.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostKeyMismatchError, InvalidJobRequestError, JobFailedError, SshConnectionError } from '../../adapters/slurm/errors';
import { SlurmExecutor } from '../../adapters/slurm/executor';
import { parseSqueue, squeueCommand } from '../../adapters/slurm/parse';
import type { JobStatus, TrainingJobRequest } from '../../adapters/slurm/port';
import { shellCommand } from '../../adapters/slurm/shell';
import { clusterProfileSchema } from '../../domain/spec';
import { loadConfig } from '../../temporal.config';
import { TINY_LABELS, TINY_PARAMS, tinyDataset } from './helpers/tiny-model';
import type { SlurmClusterConfig } from '../../temporal.config';

const config = loadConfig().clusters.local as SlurmClusterConfig;
const run = `it-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
const keys: string[] = [];
const profile = clusterProfileSchema.parse({ partition: 'cpu', memory: '100M', timeLimit: '00:03:00', checkpointSignalSeconds: 10 });

function request(name: string, command: string, extra: Partial<TrainingJobRequest> = {}): TrainingJobRequest {
  const key = `${run}-${name}`;
  keys.push(key);
  return {
    key,
    runDir: `it-slurm/${run}/${name}`,
    dataDir: 'it-slurm/data',
    configFile: `it-slurm/${run}/${name}/config.json`,
    profile,
    command: ['/bin/bash', '-c', command],
    ...extra,
  };
}

let executor: SlurmExecutor;

async function sh(command: string): Promise<{ stdout: string; stderr: string; code: number | null }> {
  return executor.runner.exec(command, { timeoutMs: 30_000 });
}

async function jobsNamed(key: string): Promise<string[]> {
  const r = await sh(squeueCommand({ name: `mlc-${key}`, user: config.username }));
  return [...new Set(parseSqueue(r.stdout).map((x) => x.arrayJobId ?? x.id))];
}

/** Waits until the job reaches a phase, collecting every state it reports. */
function follow(jobId: string): { states: JobStatus[]; done: Promise<JobStatus>; until: (pred: (s: JobStatus) => boolean) => Promise<JobStatus> } {
  const states: JobStatus[] = [];
  const listeners: (() => void)[] = [];
  const done = executor.waitFor(jobId, {
    onUpdate: (s) => {
      states.push(s);
      listeners.forEach((l) => l());
    },
  });
  done.catch(() => undefined); // closing the executor rejects waiters of skipped tests
  const until = (pred: (s: JobStatus) => boolean) =>
    new Promise<JobStatus>((resolve, reject) => {
      const check = () => {
        const hit = states.find(pred);
        if (hit) resolve(hit);
      };
      listeners.push(check);
      check();
      done.then(() => (states.find(pred) ? check() : reject(new Error(`job ${jobId} ended ${states.at(-1)?.state} without the awaited state`))), reject);
    });
  return { states, done, until };
}

let timeoutJob: { jobId: string; follow: ReturnType<typeof follow> } | undefined;

beforeAll(async () => {
  executor = new SlurmExecutor(config, { watcher: { intervalMs: 500 } });
  const ping = await sh('sinfo --noheader --format=%P').catch((e: Error) => {
    throw new Error(`the dev cluster is not reachable over SSH (${e.message}); start it with \`bash scripts/services.sh start\``);
  });
  expect(ping.code, ping.stderr).toBe(0);
  // Started first: SLURM checks time limits about once a minute, so this one runs alongside the rest.
  const req = request('timeout', 'trap "echo got USR1" USR1; for i in $(seq 300); do sleep 1; done', { profile: { ...profile, timeLimit: '00:00:01' } });
  const { jobId } = await executor.submit(req);
  timeoutJob = { jobId, follow: follow(jobId) };
});

afterAll(async () => {
  if (!executor) return;
  // Leave nothing behind on the shared cluster.
  await Promise.all(keys.map((k) => sh(shellCommand(['scancel', `--name=mlc-${k}`])).catch(() => undefined)));
  await executor.close();
});

describe('SlurmExecutor on the dev cluster', () => {
  it('runs a job to COMPLETED, logs to the run folder and records the id there', async () => {
    const req = request('ok', 'echo "hello from $SLURM_JOB_ID"');
    const { jobId, reused } = await executor.submit(req);
    expect(reused).toBe(false);
    const final = await executor.waitFor(jobId);
    expect(final).toMatchObject({ jobId, state: 'COMPLETED', phase: 'succeeded', exitCode: 0, retryable: false });
    expect(await executor.logTail(req.runDir, jobId)).toContain(`hello from ${jobId}`);
    const runDir = path.join(config.artifactsRoot, req.runDir);
    expect(readFileSync(path.join(runDir, 'slurm-job-id.submitted'), 'utf8')).toBe(`${jobId} mlc-key=${req.key}\n`);
    const status = await executor.status([jobId]);
    expect(status.get(jobId)?.state).toBe('COMPLETED');
  });

  it('trains with the real slurm/train.py (tiny params) through the rendered exec line', async () => {
    const dataDir = `it-slurm/${run}/data`;
    const abs = (p: string) => path.join(config.artifactsRoot, p);
    mkdirSync(abs(dataDir), { recursive: true });
    const splits = { train: tinyDataset(200, 1), valid: tinyDataset(40, 2), test: tinyDataset(40, 3) };
    for (const [name, rows] of Object.entries(splits)) writeFileSync(abs(`${dataDir}/${name}.jsonl`), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const req = request('train', '', { command: undefined, dataDir, profile: { ...profile, memory: '3G', timeLimit: '00:05:00' } });
    mkdirSync(abs(req.runDir), { recursive: true });
    writeFileSync(abs(req.configFile), JSON.stringify({ labels: TINY_LABELS, datasetHash: `it-${run}`, pretrainedDir: null, params: TINY_PARAMS }));
    const { jobId } = await executor.submit(req);
    const final = await executor.waitFor(jobId);
    const tail = await executor.logTail(req.runDir, jobId, 30);
    expect(final, tail).toMatchObject({ state: 'COMPLETED', phase: 'succeeded' });
    expect(existsSync(abs(`${req.runDir}/DONE`))).toBe(true);
    expect(readFileSync(abs(`${req.runDir}/slurm-job-id`), 'utf8').trim()).toBe(jobId); // train.py's own record
    expect(await executor.submit(req)).toEqual({ jobId, reused: true });
  });

  it("reports a failing script as failed, with the script's error in the log tail", async () => {
    const req = request('fail', 'echo "Traceback (most recent call last):" >&2; echo "ValueError: label \\"maybe\\" is not in labels" >&2; exit 3');
    const { jobId } = await executor.submit(req);
    const final = await executor.waitFor(jobId);
    expect(final).toMatchObject({ state: 'FAILED', phase: 'failed', exitCode: 3, retryable: false });
    expect(final.reason).toMatch(/code 3.*log tail/);
    const tail = await executor.logTail(req.runDir, jobId, 20);
    expect(tail).toContain('ValueError: label "maybe" is not in labels');
    const err = new JobFailedError(final, tail);
    expect(err.message).toMatch(/job \d+ ended FAILED \(exit 3\).*ValueError/s);
  });

  it('cancels a running job (CANCELLED), and cancelling an unknown id is fine', async () => {
    const { jobId } = await executor.submit(request('cancel', 'sleep 120'));
    const f = follow(jobId);
    await f.until((s) => s.state === 'RUNNING');
    await executor.cancel(jobId);
    await expect(f.done).resolves.toMatchObject({ state: 'CANCELLED', phase: 'failed', retryable: false });
    await expect(executor.cancel(jobId)).resolves.toBeUndefined();
    await expect(executor.cancel('99999999')).resolves.toBeUndefined();
  });

  it('submits once per key: a second submit returns the same job (reused) and the cluster holds one', async () => {
    const req = request('twice', 'sleep 2');
    const first = await executor.submit(req);
    const second = await executor.submit(req);
    expect(second).toEqual({ jobId: first.jobId, reused: true });
    // A new executor (another worker, or this one restarted) finds it too.
    const other = new SlurmExecutor(config);
    try {
      expect(await other.submit(req)).toEqual({ jobId: first.jobId, reused: true });
    } finally {
      await other.close();
    }
    expect(await jobsNamed(req.key)).toEqual([first.jobId]);
    await executor.waitFor(first.jobId);
  });

  it('adopts a job whose submitter died right after sbatch, instead of queueing a second one', async () => {
    const req = request('crash', 'sleep 2');
    // The "first worker": sbatch with our name and comment, then it dies before any bookkeeping.
    const script = `#!/bin/bash\n#SBATCH --job-name=mlc-${req.key}\n#SBATCH --comment=mlc-key=${req.key}\n#SBATCH --output=/dev/null\n#SBATCH --mem=50M\nsleep 2\n`;
    const r = await executor.runner.exec('sbatch --parsable', { stdin: script, timeoutMs: 30_000 });
    expect(r.code, r.stderr).toBe(0);
    const orphan = r.stdout.trim();
    expect(await executor.submit(req)).toEqual({ jobId: orphan, reused: true });
    expect(await jobsNamed(req.key)).toEqual([orphan]);
    await executor.waitFor(orphan);
  });

  it('follows a requeue: RUNNING, back to PENDING with a restart, RUNNING again, COMPLETED', async () => {
    const req = request('requeue', 'echo "start restart=${SLURM_RESTART_COUNT:-0}"; sleep 6; echo end');
    const { jobId } = await executor.submit(req);
    const f = follow(jobId);
    await f.until((s) => s.state === 'RUNNING');
    await new Promise((r) => setTimeout(r, 1000));
    const rq = await sh(`scontrol requeue ${jobId}`);
    expect(rq.code, rq.stderr).toBe(0);
    await f.until((s) => (s.restarts ?? 0) > 0 && s.phase === 'queued');
    // A requeued job waits ~2 minutes (BeginTime) before it may start again; let it go now.
    for (let i = 0; i < 40 && !f.states.some((s) => (s.restarts ?? 0) > 0 && s.phase !== 'queued'); i++) {
      await sh(`scontrol update JobId=${jobId} StartTime=now`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const final = await f.done;
    // On failure, say what SLURM saw: every state we polled, the job's record and its log.
    const why = async () =>
      [
        JSON.stringify(final),
        f.states.map((s) => s.state).join(' → '),
        (await sh(`scontrol show job ${jobId}`)).stdout,
        await executor.logTail(req.runDir, jobId, 20),
      ].join('\n');
    if (final.state !== 'COMPLETED') expect.fail(await why());
    expect(final).toMatchObject({ state: 'COMPLETED', phase: 'succeeded', restarts: 1 });
    const seq = f.states.map((s) => s.state);
    const firstRun = seq.indexOf('RUNNING');
    const back = seq.findIndex((s, i) => i > firstRun && (s === 'PENDING' || s === 'REQUEUED'));
    const again = seq.findIndex((s, i) => i > back && s === 'RUNNING');
    expect(
      [firstRun, back, again].every((i) => i >= 0),
      seq.join(' → '),
    ).toBe(true);
    expect(f.states[back]!.phase).toBe('queued');
    // --open-mode=append: both runs in one log.
    const log = await executor.logTail(req.runDir, jobId, 50);
    expect(log).toMatch(/start restart=0[\s\S]*DUE TO JOB REQUEUE[\s\S]*start restart=1[\s\S]*end/);
  });

  it('sums a job array: one failed trial of three, the job still succeeds, each trial in tasks', async () => {
    const req = request('array', '[ "$SLURM_ARRAY_TASK_ID" != 1 ] || { echo "trial 1 diverged" >&2; exit 5; }', {
      trialsFile: `it-slurm/${run}/trials.json`,
      trials: { count: 3, concurrency: 2 },
    });
    const { jobId } = await executor.submit(req);
    const final = await executor.waitFor(jobId);
    expect(final).toMatchObject({ jobId, state: 'COMPLETED', phase: 'succeeded' });
    expect(Object.entries(final.tasks!).map(([i, t]) => [i, t.state, t.exitCode])).toEqual([
      ['0', 'COMPLETED', 0],
      ['1', 'FAILED', 5],
      ['2', 'COMPLETED', 0],
    ]);
    expect(await executor.logTail(req.runDir, `${jobId}_1`)).toContain('trial 1 diverged');
  });

  it('keeps shell metacharacters in config and request values inert all the way to the job', async () => {
    const marker = `/tmp/pwned-${randomBytes(6).toString('hex')}`;
    const base = mkdtempSync(path.join(tmpdir(), 'mlc-it-'));
    const codeDir = path.join(base, `code $(touch ${marker}) \`touch ${marker}\``);
    mkdirSync(codeDir, { recursive: true });
    // python=/bin/echo: the job prints the argv it was given instead of training.
    const weird = new SlurmExecutor({ ...config, codeDir, python: '/bin/echo' }, { watcher: { intervalMs: 500 } });
    try {
      const req = request('inert', '', { command: undefined, dataDir: `it-slurm/data $(touch ${marker}); touch ${marker} #` });
      const { jobId } = await weird.submit(req);
      expect(await weird.waitFor(jobId)).toMatchObject({ state: 'COMPLETED' });
      const log = await weird.logTail(req.runDir, jobId);
      expect(log).toContain(`--data-dir ${config.artifactsRoot}/it-slurm/data $(touch ${marker}); touch ${marker} #`);
      expect(existsSync(marker)).toBe(false);
      // A run folder with metacharacters cannot be quoted in #SBATCH --output: refused, never submitted.
      const bad = request('inert-bad', 'true', { runDir: `it-slurm/$(touch ${marker})` });
      await expect(weird.submit(bad)).rejects.toBeInstanceOf(InvalidJobRequestError);
      expect(await jobsNamed(bad.key)).toEqual([]);
      expect(existsSync(marker)).toBe(false);
    } finally {
      await weird.close();
    }
  });

  it('refuses a host whose key differs from the pinned one, and runs nothing there', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mlc-kh-'));
    const knownHostsPath = path.join(dir, 'known_hosts');
    // A real ed25519 key, just not the server's.
    const other = ssh2.utils.generateKeyPairSync('ed25519').public.split(' ').slice(0, 2).join(' ');
    writeFileSync(knownHostsPath, `[${config.host}]:${config.port} ${other}\n`);
    const spoofed = new SlurmExecutor({ ...config, knownHostsPath }, { ssh: { connectAttempts: 1 } });
    const req = request('mitm', 'true');
    try {
      const err = await spoofed.submit(req).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HostKeyMismatchError);
      expect((err as Error).message).toContain(knownHostsPath);
      expect((err as HostKeyMismatchError).presented).toMatch(/^ssh-ed25519 SHA256:/);
    } finally {
      await spoofed.close();
    }
    expect(await jobsNamed(req.key)).toEqual([]);
    expect(existsSync(path.join(config.artifactsRoot, req.runDir))).toBe(false);
  });

  it('reports an unreachable port as SshConnectionError naming host:port', async () => {
    const nowhere = new SlurmExecutor({ ...config, port: 1 }, { ssh: { connectAttempts: 2, backoffMs: 10 } });
    try {
      const err = await nowhere.status(['1']).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SshConnectionError);
      expect((err as Error).message).toMatch(new RegExp(`${config.host}:1\\b.*ECONNREFUSED`, 's'));
    } finally {
      await nowhere.close();
    }
  });

  it('sees a job past its --time end as TIMEOUT, after the checkpoint signal reached the batch shell', async () => {
    const { jobId, follow: f } = timeoutJob!;
    const final = await f.done;
    expect(final).toMatchObject({ jobId, state: 'TIMEOUT', phase: 'failed', retryable: false });
    expect(final.reason).toMatch(/timeLimit/);
    expect(await executor.logTail(`it-slurm/${run}/timeout`, jobId)).toMatch(/got USR1[\s\S]*DUE TO TIME LIMIT/);
  });
});
