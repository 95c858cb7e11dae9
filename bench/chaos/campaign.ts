// The faults of a plan, injected one at a time into lifecycles started a few at a time: each
// fault waits for a lifecycle in flight that is at its state (or past its random moment) and
// has recovered from every fault that reached it before (with oneAtATime, for every lifecycle
// in flight to have), so each figure belongs to one fault.
// A fault that cannot be made to happen (the job ended before it saved a checkpoint, say)
// waits for its next chance; what never found one is returned with the reason.
import { inject, label, type PlannedFault } from './faults';
import type { LifecycleRun } from './lifecycle';
import { recoveredFromAll, type Injection } from './recovery';
import { sleep } from './daemon';
import { s, type ChaosStack } from './stack';

export interface CampaignOptions {
  lifecycles: number;
  concurrency: number;
  lifecycleTimeoutMs: number;
  staggerMs: number;
  /**
   * Wait, before each fault, until every lifecycle in flight recovered from the faults before
   * (each fault reaches them all): clean figures, one fault's recovery at a time. Off, faults
   * may overlap (faster); recoveries a later fault reached are left out of the figures.
   */
  oneAtATime: boolean;
  /** A new lifecycle, not yet started; `n` counts from 1. */
  newRun: (n: number) => LifecycleRun;
  /** Called as soon as a lifecycle ends, while what it left is fresh (the controller forgets jobs). */
  onEnded: (run: LifecycleRun) => Promise<void>;
  log: (line: string) => void;
}

export interface Campaign {
  runs: LifecycleRun[];
  injections: Injection[];
  missed: { fault: PlannedFault; why: string }[];
  /** Worker processes that exited without being killed here. */
  crashes: string[];
}

export async function injectAsPlanned(stack: ChaosStack, plan: PlannedFault[], o: CampaignOptions): Promise<Campaign> {
  const pending = [...plan];
  const runs: LifecycleRun[] = [];
  const drives: Promise<void>[] = [];
  const injections: Injection[] = [];
  const notInjected = new Map<PlannedFault, string>();
  // Where a fault was passed over, and the lifecycle's progress then: it is offered to that
  // lifecycle again only once it has moved on (a job id appeared, the job changed state).
  const passedOver = new Map<PlannedFault, { run: LifecycleRun; mark: string }>();
  const crashes: string[] = [];
  let lastLaunch = 0;

  const quiet = () => !o.oneAtATime || runs.every((r) => !r.inFlight || recoveredFromAll(r, injections));
  const stillPassedOver = (f: PlannedFault, r: LifecycleRun) => {
    const last = passedOver.get(f);
    return last?.run === r && last.mark === r.progressMark();
  };
  const eligible = (f: PlannedFault, r: LifecycleRun) =>
    r.inFlight &&
    !stillPassedOver(f, r) &&
    recoveredFromAll(r, injections) &&
    (f.point === 'random' ? Date.now() - r.startedAt >= (f.delayMs ?? 0) && r.latest?.stage !== 'monitoring' : r.isAt(f.point));

  try {
    for (;;) {
      for (const crash of stack.workers.crashed()) {
        crashes.push(crash.why);
        // The whole tail: the worker's last lines are the only account of why it exited.
        o.log(`✗ a worker exited by itself, restarting it: ${crash.why}`);
        await stack.workers.start(crash.role);
      }
      // One at a time, a new lifecycle waits for the recovery under way: it would pass its
      // states unhurt meanwhile, a chance lost for the faults still to come.
      const room = runs.filter((r) => r.inFlight).length < o.concurrency && quiet();
      if (runs.length < o.lifecycles && room && Date.now() - lastLaunch >= o.staggerMs) {
        const r = o.newRun(runs.length + 1);
        runs.push(r);
        drives.push(
          r
            .drive(o.lifecycleTimeoutMs)
            .then(() => o.onEnded(r))
            // Read again at the end (run.ts); a failed early read must not end the bench.
            .catch((err: Error) => o.log(`✗ reading ${r.id}'s end state as it ended: ${err.message}`)),
        );
        lastLaunch = Date.now();
        o.log(`started ${r.id}`);
      }
      if (runs.length === o.lifecycles && runs.every((r) => r.outcome !== null)) break;

      const next = quiet() ? pending.findIndex((f) => runs.some((r) => eligible(f, r))) : -1;
      if (next >= 0) {
        const fault = pending.splice(next, 1)[0]!;
        // A node goes down only under a job that outlives the others on it: the newest one.
        const candidates = runs.filter((r) => eligible(fault, r));
        const target = fault.kind === 'node-fail' ? candidates.at(-1)! : candidates[0]!;
        const mark = target.progressMark();
        const hit = new Map(runs.filter((r) => r.inFlight).map((r) => [r, r.latest]));
        const at = Date.now();
        o.log(`→ ${label(fault)} on ${target.id} (${mark})`);
        const outcome = await inject(fault, stack, target);
        if (outcome.injected) {
          const injection: Injection = { fault, label: label(fault), at, target, hit, outcome };
          void outcome.reconnected?.then((ms) => {
            if (ms !== null) injection.reconnectedAt = at + (outcome.backMs ?? 0) + ms;
          });
          injections.push(injection);
          o.log(`  done; back in ${s(outcome.backMs ?? 0)}`);
        } else {
          pending.push(fault); // another lifecycle may give it its chance
          passedOver.set(fault, { run: target, mark });
          notInjected.set(fault, outcome.note ?? 'not injected');
          o.log(`  not injected: ${outcome.note}`);
        }
      }
      await sleep(200);
    }
  } finally {
    // Nothing may still call Temporal when the stack closes the client.
    runs.forEach((r) => r.stop());
    await Promise.allSettled(drives);
  }
  await Promise.all(injections.flatMap((i) => (i.outcome.reconnected ? [i.outcome.reconnected] : [])));
  const missed = pending.map((fault) => ({
    fault,
    why: notInjected.get(fault) ?? `no lifecycle was at ${fault.point}, and recovered from earlier faults, while in flight; raise --lifecycles`,
  }));
  return { runs, injections, missed, crashes };
}
