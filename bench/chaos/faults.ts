// The faults the bench injects, each into the bench's own services, and the plan that says
// when: a seeded mix of worker SIGKILLs at chosen states (queued, running, evaluating,
// deploying) and at random moments, plus restarts of Temporal, sshd and PostgreSQL, and one
// node failure under a running job.
import path from 'node:path';
import { shuffle, seededRandom } from '../../domain/random';
import type { Role } from '../../workers/runtime';
import type { LifecycleRun, Point } from './lifecycle';
import { failNodeUnder } from './node-failure';
import type { ChaosStack } from './stack';
import { waitFor } from './daemon';

export type FaultKind = 'worker-kill' | 'temporal-restart' | 'sshd-restart' | 'postgres-restart' | 'node-fail';

export interface PlannedFault {
  kind: FaultKind;
  /** A state a lifecycle must be in, or `random`: a moment `delayMs` after a lifecycle started. */
  point: Point | 'random';
  delayMs?: number;
  /** For worker kills: the role whose process dies. */
  role?: Role;
}

export interface FaultOutcome {
  /** False when the fault could not be made to happen (the job ended first, say); `note` says why. */
  injected: boolean;
  /** How long the broken part took to be back (restart until ready). */
  backMs: number | null;
  note?: string;
  /** sshd: resolves with the ms from the cut until a worker logged in again, or null. */
  reconnected?: Promise<number | null>;
}

/** How long PostgreSQL stays down: several of the control activities' retry intervals (2 s, then 4 s). */
const POSTGRES_DOWN_MS = 5_000;

// The role doing the work at each state: its death abandons an activity mid-flight.
const roleAt: Record<Point, Role> = { queued: 'control', running: 'control', evaluating: 'scoring', deploying: 'control' };

export function label(f: PlannedFault): string {
  switch (f.kind) {
    case 'worker-kill':
      return `worker SIGKILL (${f.role}) @${f.point}`;
    case 'temporal-restart':
      return `Temporal dev server restart @${f.point}`;
    case 'sshd-restart':
      return `sshd restart, connections cut @${f.point}`;
    case 'postgres-restart':
      return `PostgreSQL crash+restart @${f.point}`;
    case 'node-fail':
      return `node failure (NODE_FAIL) @${f.point}`;
  }
}

/**
 * The plan: `kills` worker kills spread over the four states and random moments (or over
 * `killPoints`, in turn), `restarts` of each service, and `nodeFailures` node failures, in a
 * seeded order.
 */
export function planFaults(o: {
  kills: number;
  restarts: number;
  nodeFailures: number;
  seed: number;
  lifecycleMs: number;
  killPoints?: (Point | 'random')[];
}): PlannedFault[] {
  const rand = seededRandom(o.seed);
  const points = o.killPoints?.length ? o.killPoints : shuffle<Point | 'random'>(['queued', 'running', 'evaluating', 'deploying', 'random'], rand);
  const plan: PlannedFault[] = [];
  for (let i = 0; i < o.kills; i++) {
    const point = points[i % points.length]!;
    if (point === 'random') {
      plan.push({ kind: 'worker-kill', point, delayMs: Math.round(rand() * o.lifecycleMs), role: rand() < 0.5 ? 'control' : 'scoring' });
    } else {
      plan.push({ kind: 'worker-kill', point, role: roleAt[point] });
    }
  }
  for (let i = 0; i < o.restarts; i++) {
    // Mid-lifecycle, while the job is polled; and while decisions and deployments are written.
    plan.push({ kind: 'temporal-restart', point: 'running' }, { kind: 'sshd-restart', point: 'running' }, { kind: 'postgres-restart', point: 'deploying' });
  }
  for (let i = 0; i < o.nodeFailures; i++) plan.push({ kind: 'node-fail', point: 'running' });
  return shuffle(plan, rand);
}

export async function inject(f: PlannedFault, stack: ChaosStack, target: LifecycleRun): Promise<FaultOutcome> {
  const t0 = Date.now();
  const back = () => Date.now() - t0;
  switch (f.kind) {
    case 'worker-kill': {
      await stack.workers.kill(f.role!);
      await stack.workers.start(f.role!);
      return { injected: true, backMs: back() };
    }
    case 'temporal-restart':
      await stack.temporal.restart();
      return { injected: true, backMs: back() };
    case 'sshd-restart': {
      const before = stack.sshd.logins();
      await stack.sshd.restartCuttingConnections();
      const cutAt = Date.now();
      const reconnected = waitFor('a worker to log in to sshd again', () => stack.sshd.logins() > before, 180_000).then(
        () => Date.now() - cutAt,
        () => null,
      );
      return { injected: true, backMs: back(), reconnected };
    }
    case 'postgres-restart':
      await stack.postgres.restart(POSTGRES_DOWN_MS);
      return { injected: true, backMs: back() };
    case 'node-fail': {
      const training = target.lastStatus?.training;
      if (!training?.jobId) return { injected: false, backMs: null, note: 'no job id in the status yet' };
      const log = path.join(stack.config.clusters[target.spec.training.cluster]!.artifactsRoot, training.runDir, `slurm-${training.jobId}.out`);
      const r = await failNodeUnder(training.jobId, log, target.spec.training.params.epochs);
      return r.failed ? { injected: true, backMs: back() } : { injected: false, backMs: null, note: r.why };
    }
  }
}
