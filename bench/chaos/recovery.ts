// When a lifecycle has recovered from a fault, per kind of fault. The bench aims the next
// fault only at lifecycles that recovered from every fault that reached them, so each figure
// belongs to one fault; the same moment gives the fault's recovery time.
//   A fault at a state (worker kill, PostgreSQL, node failure): the target got past that
//     state, seen in an answered status query — queued: its job reported running or ended;
//     running: the job's end reported, or a new job (a resubmission); evaluating: the audit
//     wait reached; deploying: monitoring reached. So it includes what was left of the state's
//     own work (a job's remaining minutes), and any activity timeout the fault cost.
//   A fault at a random moment, and every other lifecycle the fault reached: their next
//     progress (stage, job state or decision).
//   Temporal restart: the first status query answered after the server is back, which goes
//     server → worker → server: both reconnected (whether it then resumes, its end state shows).
//   sshd restart: a worker's first SSH login after the cut, its pooled connection reconnecting.
import type { Stage } from '../../domain/lifecycle';
import type { FaultOutcome, PlannedFault } from './faults';
import type { LifecycleRun, Observation } from './lifecycle';

export interface Injection {
  fault: PlannedFault;
  label: string;
  at: number;
  target: LifecycleRun;
  /** Every lifecycle in flight when it happened (a service fault reaches them all), with what was last seen of it. */
  hit: Map<LifecycleRun, Observation | undefined>;
  outcome: FaultOutcome;
  /** sshd: when a worker logged in again. */
  reconnectedAt?: number;
  /** Node failures: whether the resubmitted job resumed from the dead one's checkpoint, in words. */
  resumed?: string;
}

const order: Stage[] = ['preprocessing', 'training', 'evaluating', 'awaiting_audit', 'awaiting_deploy', 'deploying', 'monitoring'];
const past = (o: Observation, stage: Stage) => order.indexOf(o.stage ?? 'preprocessing') > order.indexOf(stage);

/** Whether `o` shows the lifecycle past the state the fault `f` hit it in (`before`: what was seen then). */
function pastPoint(f: PlannedFault, o: Observation, before: Observation | undefined, run: LifecycleRun): boolean {
  const phase = o.status?.training?.jobPhase;
  const newJob = o.status?.training?.jobId !== before?.status?.training?.jobId;
  switch (f.point) {
    case 'queued':
      return past(o, 'training') || phase === 'running' || phase === 'succeeded' || phase === 'failed' || newJob;
    case 'running':
      return past(o, 'training') || phase === 'succeeded' || phase === 'failed' || newJob;
    case 'evaluating':
      return past(o, 'evaluating');
    case 'deploying':
      return o.stage === 'monitoring';
    case 'random':
      return run.progressMark(o) !== run.progressMark(before);
  }
}

/** When `run` recovered from `i`, or null while it has not. */
export function recoveredAt(i: Injection, run: LifecycleRun): number | null {
  const after = run.observations.filter((o) => o.at > i.at && o.status);
  switch (i.fault.kind) {
    case 'sshd-restart':
      return i.reconnectedAt ?? null;
    case 'temporal-restart': {
      const back = i.at + (i.outcome.backMs ?? 0);
      return after.find((o) => o.at > back)?.at ?? null;
    }
    default: {
      const before = i.hit.get(run);
      if (run !== i.target) return after.find((o) => run.progressMark(o) !== run.progressMark(before))?.at ?? null;
      return after.find((o) => pastPoint(i.fault, o, before, run))?.at ?? null;
    }
  }
}

/** ms from the fault until its target recovered; null if it never did. */
export function recoveryMs(i: Injection): number | null {
  const at = recoveredAt(i, i.target);
  return at === null ? null : at - i.at;
}

/**
 * Whether a later fault reached the target before it recovered from `i`: then `i`'s recovery
 * time holds some of the other's, and the figures leave it out.
 */
export function overlapped(i: Injection, all: Injection[]): boolean {
  const at = recoveredAt(i, i.target) ?? Infinity;
  return all.some((j) => j !== i && j.at > i.at && j.at < at && j.hit.has(i.target));
}

/** Whether `run` has recovered from every fault that reached it. */
export function recoveredFromAll(run: LifecycleRun, injections: Injection[]): boolean {
  return injections.every((i) => !i.hit.has(run) || recoveredAt(i, run) !== null);
}
