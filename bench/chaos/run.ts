// The chaos run: an undisturbed baseline lifecycle first, then `lifecycles` more, a few at a
// time, while the planned faults are injected one after another, each when a lifecycle reaches
// the fault's state and has recovered from the fault before. At the end every lifecycle's end
// state is read and compared with the baseline's. bench/chaos.ts prints it; the e2e test
// asserts on it.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { differences, duplicateJobs, readEndState, type EndState } from './invariants';
import { planFaults, type PlannedFault } from './faults';
import { injectAsPlanned } from './campaign';
import { savedCheckpoints } from './node-failure';
import { chaosSpec, LifecycleRun, type Point } from './lifecycle';
import type { Injection } from './recovery';
import { s, startStack, type ChaosStack } from './stack';

export interface ChaosOptions {
  kills: number;
  lifecycles: number;
  /** Restarts of each service (Temporal, sshd, PostgreSQL). */
  restarts: number;
  nodeFailures: number;
  seed: number;
  /** Lifecycles in flight at once. */
  concurrency: number;
  /** A lifecycle not monitoring after this long is stuck. */
  lifecycleTimeoutMs: number;
  /** Each fault only once every lifecycle in flight recovered from the last (see campaign.ts). */
  oneAtATime: boolean;
  /** Kill points to use instead of the seeded mix (the short CI run picks ones with bounded recovery). */
  killPoints?: (Point | 'random')[];
  log: (line: string) => void;
  keepDir?: boolean;
}

export interface LifecycleResult {
  run: LifecycleRun;
  state: EndState;
  diffs: string[];
}

export interface ChaosResult {
  baseline: LifecycleResult & { durationMs: number };
  lifecycles: LifecycleResult[];
  injections: Injection[];
  /** Planned faults that never happened, and why. */
  missed: { fault: PlannedFault; why: string }[];
  /** Worker processes that exited without being killed by the bench. */
  crashes: string[];
  seed: number;
}

export async function runChaos(o: ChaosOptions): Promise<ChaosResult> {
  const stack = await startStack(o.log);
  let kept = o.keepDir ?? false;
  try {
    return await runOn(stack, o);
  } catch (err) {
    kept = true;
    o.log(`✗ ${(err as Error).message}\n${stack.workers.logs()}\n(files kept in ${stack.dir})`);
    throw err;
  } finally {
    await stack.close({ keepDir: kept });
  }
}

async function runOn(stack: ChaosStack, o: ChaosOptions): Promise<ChaosResult> {
  const tag = `${Date.now().toString(36)}`;
  const newRun = (name: string) => new LifecycleRun(stack.client, chaosSpec(`chaos-${tag}-${name}`, stack.inputDir), stack.inputDir);

  o.log('baseline: one lifecycle, no faults');
  const base = newRun('base');
  await base.drive(o.lifecycleTimeoutMs);
  const baseState = await readEndState(base, stack.postgres.url);
  const durationMs = base.endedAt - base.startedAt;
  if (base.outcome !== 'reached monitoring') {
    throw new Error(`the undisturbed baseline did not reach monitoring (${base.outcome}: ${base.error}); nothing to compare with`);
  }
  o.log(`baseline reached monitoring in ${s(durationMs)}: ${JSON.stringify(baseState)}`);

  const plan = planFaults({ ...o, lifecycleMs: durationMs });
  o.log(`chaos: ${plan.length} faults over ${o.lifecycles} lifecycles, ${o.concurrency} at a time (seed ${o.seed})`);
  const ended = new Map<LifecycleRun, EndState>();
  const { runs, injections, missed, crashes } = await injectAsPlanned(stack, plan, {
    ...o,
    newRun: (n) => newRun(String(n)),
    onEnded: async (run) => void ended.set(run, await readEndState(run, stack.postgres.url)),
    // Apart enough that lifecycles in flight are at different states.
    staggerMs: Math.max(5_000, durationMs / 2),
  });

  const lifecycles: LifecycleResult[] = [];
  for (const run of runs) {
    const state = ended.get(run) ?? (await readEndState(run, stack.postgres.url));
    const diffs = differences(baseState, state);
    if (duplicateJobs(state) > 0) diffs.push(`duplicate SLURM jobs: ${JSON.stringify(state.slurm.jobsByName)}`);
    lifecycles.push({ run, state, diffs });
  }
  for (const i of injections) if (i.fault.kind === 'node-fail') i.resumed = await resumedFrom(stack, i);
  return { baseline: { run: base, state: baseState, diffs: [], durationMs }, lifecycles, injections, missed, crashes, seed: o.seed };
}

/**
 * Whether the job that replaced the dead one resumed from the last checkpoint the dead one
 * saved (on the node failure's SIGTERM, or an interval), read from both jobs' logs.
 */
async function resumedFrom(stack: ChaosStack, i: Injection): Promise<string> {
  const training = i.target.lastStatus?.training;
  if (!training) return 'no training status';
  if (training.resubmittedAfter === undefined) return 'not yet supported: the lifecycle does not resubmit after NODE_FAIL';
  const dead = training.resubmittedAfter[0];
  if (!dead) return 'not resubmitted';
  const root = stack.config.clusters[i.target.spec.training.cluster]!.artifactsRoot;
  const log = (jobId: string) => readFile(path.join(root, training.runDir, `slurm-${jobId}.out`), 'utf8').catch(() => '');
  const saved = savedCheckpoints(await log(dead.jobId)).map((c) => c.step);
  const last = saved.length ? Math.max(...saved) : null;
  const replacement = await log(training.jobId!);
  const resumedAt = /resuming from checkpoint at step (\d+)/.exec(replacement)?.[1];
  if (!resumedAt) {
    // Its own words on the checkpoint (unreadable, another config's, outputs already complete), if any.
    const why = replacement.split('\n').filter((l) => /already complete|scratch|unreadable|different config/.test(l));
    return `job ${training.jobId} (after ${dead.jobId} ${dead.state}, whose last checkpoint was at step ${last}) did not resume from a checkpoint: ${why.join(' | ') || 'its log says nothing about one'}`;
  }
  if (Number(resumedAt) !== last) return `job ${training.jobId} resumed at step ${resumedAt}, but job ${dead.jobId}'s last checkpoint was at step ${last}`;
  return `job ${dead.jobId} ${dead.state}, job ${training.jobId} resumed at step ${resumedAt} in the same run folder`;
}
