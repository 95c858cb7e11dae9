// A node failing under a running training job, for real, on the shared one-node dev cluster,
// done the way test/integration/slurm-resubmit.test.ts does it: the job is told not to requeue
// itself (SLURM would, with JobRequeue=1; production clusters that do not are what this covers),
// the node is drained first and taken down only once our job is the last one running there
// (other tests' jobs wait, none dies), and it is resumed whatever happens.
import { execFile, execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../../temporal.config';
import { sleep } from './daemon';

const run = promisify(execFile);
const REASON = 'mlc-chaos-node-fail';

/** One SLURM command on this machine (the bench runs beside the dev cluster); its stdout. */
export async function slurm(argv: string[]): Promise<string> {
  const { stdout } = await run(argv[0]!, argv.slice(1), { env: slurmEnv(), timeout: 30_000 });
  return stdout;
}

const slurmEnv = () => ({ ...process.env, SLURM_CONF: process.env.SLURM_CONF ?? path.join(repoRoot, 'infra/slurm/slurm.conf') });

export type NodeFailure = { failed: true } | { failed: false; why: string };

/**
 * Take the node under `jobId` down once the job has saved a checkpoint (read from its log,
 * `logFile`), and bring it back. Says why when it could not: the job finished first, say.
 * `epochs` is the job's epoch count: the node goes down only while a whole epoch is left.
 */
export async function failNodeUnder(jobId: string, logFile: string, epochs: number, budgetMs = 300_000): Promise<NodeFailure> {
  const deadline = Date.now() + budgetMs;
  // The lifecycle's status trails the job by a poll: it may have ended since, and scontrol says so.
  const told = await slurm(['scontrol', 'update', `JobId=${jobId}`, 'Requeue=0']).catch((err: Error) => err);
  if (told instanceof Error) {
    if (!(await stillRunning(jobId))) return { failed: false, why: `job ${jobId} ended before it could be told not to requeue` };
    throw told;
  }
  const log = () => readFile(logFile, 'utf8').catch(() => '');
  while (!/checkpoint saved/.test(await log())) {
    if (!(await stillRunning(jobId))) return { failed: false, why: `job ${jobId} ended before it saved a checkpoint` };
    if (Date.now() > deadline) return { failed: false, why: `job ${jobId} saved no checkpoint in ${budgetMs / 1000} s` };
    await sleep(200);
  }
  // Too close to its end, the job may be exporting by the time SIGTERM reaches it; it then
  // finishes its outputs and the replacement finds them complete: nothing is resumed, so the
  // failure would test nothing. A whole epoch left is seconds of margin over the ~100 ms between
  // the last look and the node going down.
  const inLastEpoch = async () => {
    const done = epochsCompleted(await log());
    return done < epochs - 1
      ? null
      : `job ${jobId} is in its last epoch (${done} of ${epochs} done): it could be exporting by the time it hears of the failure`;
  };
  const late = await inLastEpoch();
  if (late) return { failed: false, why: late };
  const node = (await slurm(['squeue', '-h', '-j', jobId, '-o', '%N'])).trim();
  if (!/^[A-Za-z0-9._-]+$/.test(node)) return { failed: false, why: `job ${jobId} has no node (it ended?)` };
  await slurm(['scontrol', 'update', `NodeName=${node}`, 'State=DRAIN', `Reason=${REASON}`]);
  // Interrupted (Ctrl-C) before the finally below: the shared node must not stay drained.
  const resumeOnExit = () => resumeNow(node);
  process.once('exit', resumeOnExit);
  try {
    for (;;) {
      const late = await inLastEpoch();
      if (late) return { failed: false, why: late };
      const running = (await slurm(['squeue', '-h', '-w', node, '-t', 'RUNNING,COMPLETING', '-o', '%i'])).split('\n').filter(Boolean);
      if (!running.includes(jobId)) return { failed: false, why: `job ${jobId} ended while other jobs kept node ${node} busy` };
      if (running.length === 1) break;
      if (Date.now() > deadline) return { failed: false, why: `other jobs (${running.join(', ')}) kept running on ${node}; not taking it down under them` };
      await sleep(500);
    }
    await slurm(['scontrol', 'update', `NodeName=${node}`, 'State=DOWN', `Reason=${REASON}`]);
    let shown = '';
    for (let i = 0; i < 60 && !/JobState=NODE_FAIL/.test((shown = await slurm(['scontrol', 'show', 'job', jobId]))); i++) await sleep(500);
    const state = /JobState=(\S+)/.exec(shown)?.[1] ?? 'unknown';
    return state === 'NODE_FAIL' ? { failed: true } : { failed: false, why: `job ${jobId} is ${state}, not NODE_FAIL, after its node went down` };
  } finally {
    process.off('exit', resumeOnExit);
    await slurm(['scontrol', 'update', `NodeName=${node}`, 'State=RESUME']).catch(() => undefined);
    for (let i = 0; i < 120 && !/^(idle|mixed|allocated)$/.test((await slurm(['sinfo', '-h', '-n', node, '-o', '%T'])).trim()); i++) await sleep(500);
  }
}

/** The checkpoints train.py's log says it saved: "checkpoint saved (reason: …) at epoch N step S", N the epochs then done. */
export function savedCheckpoints(log: string): { epoch: number; step: number }[] {
  return [...log.matchAll(/checkpoint saved \(reason: \w+\) at epoch (\d+) step (\d+)/g)].map((m) => ({ epoch: Number(m[1]), step: Number(m[2]) }));
}

/** Epochs the job's log says are done: the highest of its checkpoints' and its per-epoch summaries' ("epoch N/M step …"). */
export function epochsCompleted(log: string): number {
  const summaries = [...log.matchAll(/^epoch (\d+)\/\d+ step/gm)].map((m) => Number(m[1]));
  return Math.max(0, ...summaries, ...savedCheckpoints(log).map((c) => c.epoch));
}

function resumeNow(node: string): void {
  try {
    execFileSync('scontrol', ['update', `NodeName=${node}`, 'State=RESUME'], { env: slurmEnv(), timeout: 10_000, stdio: 'ignore' });
  } catch {
    console.error(`could not resume node ${node}: run \`scontrol update NodeName=${node} State=RESUME\``);
  }
}

async function stillRunning(jobId: string): Promise<boolean> {
  const state = (await slurm(['squeue', '-h', '-j', jobId, '-o', '%T']).catch(() => '')).trim();
  return /^(PENDING|CONFIGURING|RUNNING)$/.test(state);
}
