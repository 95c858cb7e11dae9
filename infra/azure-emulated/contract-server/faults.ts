// Azure's failures on demand, so callers can be tested against each one: quota refusals,
// containers that crash, throttling, slow propagation of traffic, scoring that fails, slow
// operations (to meet the real 409 Conflict on purpose). Each is armed by a test and
// consumed by the part of the emulator where Azure would fail.
export class Faults {
  private outOfQuota = 0;
  private crashes = 0;
  private throttled = 0;
  private throttleRetryAfter = 1;
  private trafficDelayMs: number | undefined;
  private slow: { ms: number; count: number } | undefined;
  private readonly scoringFailures = new Map<string, { status: number; fromShare: number }>();

  /** The next `count` deployment creations fail with OutOfQuota (a Failed operation). */
  outOfQuotaOnNextDeployment(count = 1): void {
    this.outOfQuota += count;
  }

  /** The next `count` deployments get a container whose init() raises: ResourceNotReady, with logs. */
  crashNextDeployment(count = 1): void {
    this.crashes += count;
  }

  /** The next `count` ARM requests are answered 429 with Retry-After. */
  throttleNextRequests(count: number, retryAfterSeconds = 1): void {
    this.throttled += count;
    this.throttleRetryAfter = retryAfterSeconds;
  }

  /** The next traffic change routes at once but shows in GET only `ms` after its operation succeeded. */
  delayNextTrafficVisibility(ms: number): void {
    this.trafficDelayMs = ms;
  }

  /** The next `count` long-running operations take `ms` (to hold an endpoint busy). */
  slowNextOperations(ms: number, count = 1): void {
    this.slow = { ms, count };
  }

  /** Scoring requests routed to this deployment answer `status` until restoreScoring. */
  failScoring(endpoint: string, deployment: string, status = 500): void {
    this.scoringFailures.set(`${endpoint}/${deployment}`.toLowerCase(), { status, fromShare: 0 });
  }

  /**
   * The same, but only while the deployment has at least `fromShare` percent of the traffic:
   * a version that is healthy when tried alone and fails under real load, part-way through
   * a rollout.
   */
  failScoringFromShare(endpoint: string, deployment: string, fromShare: number, status = 500): void {
    this.scoringFailures.set(`${endpoint}/${deployment}`.toLowerCase(), { status, fromShare });
  }

  restoreScoring(endpoint: string, deployment: string): void {
    this.scoringFailures.delete(`${endpoint}/${deployment}`.toLowerCase());
  }

  clear(): void {
    this.outOfQuota = this.crashes = this.throttled = 0;
    this.trafficDelayMs = undefined;
    this.slow = undefined;
    this.scoringFailures.clear();
  }

  // ---- consumed by the emulator ----

  takeOutOfQuota(): boolean {
    return this.outOfQuota > 0 && this.outOfQuota-- > 0;
  }
  takeCrash(): boolean {
    return this.crashes > 0 && this.crashes-- > 0;
  }
  /** Retry-After seconds when this request is to be throttled. */
  takeThrottle(): number | undefined {
    if (this.throttled <= 0) return undefined;
    this.throttled--;
    return this.throttleRetryAfter;
  }
  takeTrafficDelay(): number | undefined {
    const ms = this.trafficDelayMs;
    this.trafficDelayMs = undefined;
    return ms;
  }
  takeSlowOperation(): number | undefined {
    if (!this.slow || this.slow.count <= 0) return undefined;
    this.slow.count--;
    return this.slow.ms;
  }
  /** The status to answer with, given the deployment's current traffic share (percent). */
  scoringFailure(endpoint: string, deployment: string, share: number): number | undefined {
    const fault = this.scoringFailures.get(`${endpoint}/${deployment}`.toLowerCase());
    return fault && share >= fault.fromShare ? fault.status : undefined;
  }
}
