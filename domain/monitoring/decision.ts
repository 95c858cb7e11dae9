// Whether a run asks for a retrain: only after `consecutive` windows in a row breached, so one
// noisy window (a holiday, a bot, a burst of one customer) does not retrain a model. The past
// windows come from the registry's monitoring reports, not from workflow state: a Schedule
// starts a fresh workflow every time, and the registry outlives any of them. Pure.

/** What a stored report says about its window, for the decision. */
export interface PastWindow {
  reportKey: string;
  version: number;
  windowStart: string;
  windowEnd: string;
  /** Whether anything could be judged (enough predictions or feedback). */
  judged: boolean;
  /** Whether the window had enough predictions to judge drift and the estimate. */
  driftJudged: boolean;
  breached: boolean;
}

export interface RetrainDecision {
  degraded: boolean;
  /** Breached windows in a row, this one included. */
  streak: number;
  reason: string;
}

/**
 * `past` newest first, of the same model; windows of other versions and windows where nothing
 * was judged neither count nor break the streak (a quiet night says nothing).
 */
export function decideRetrain(
  current: { judged: boolean; breached: boolean; version: number },
  past: readonly PastWindow[],
  consecutive: number,
): RetrainDecision {
  if (!current.breached) {
    return { degraded: false, streak: 0, reason: current.judged ? 'this window did not breach any threshold' : 'nothing could be judged in this window' };
  }
  let streak = 1;
  for (const w of past) {
    if (streak >= consecutive) break;
    if (w.version !== current.version || !w.judged) continue;
    if (!w.breached) break;
    streak++;
  }
  if (streak >= consecutive) {
    return {
      degraded: true,
      streak,
      reason: `${streak === 1 ? 'this window breached' : `${streak} consecutive windows breached`} (the spec's monitoring.consecutive is ${consecutive}): retraining`,
    };
  }
  return {
    degraded: false,
    streak,
    reason: `${streak} of ${consecutive} consecutive breached windows needed before retraining (monitoring.consecutive); the next run decides`,
  };
}

/**
 * Where this window starts: right after the last judged window of the live version, so windows
 * do not overlap and each is fresh evidence; at the deployment when there is none. A window
 * too small to judge is folded into the next one rather than skipped.
 */
export function windowStartAfter(past: readonly PastWindow[], version: number, deployedAt: string): string {
  const last = past.find((w) => w.version === version && w.driftJudged && Date.parse(w.windowEnd) > Date.parse(deployedAt));
  return last ? last.windowEnd : deployedAt;
}
