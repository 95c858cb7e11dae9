// A queue of human messages (signals and updates) that the workflow's main line judges one
// at a time. Signals and updates share it, so both paths are judged by the same code and
// recorded the same way; an update's caller just also waits for its verdict.
import { condition } from '@temporalio/workflow';
import type { z } from 'zod';
import type { Verdict } from '../domain/lifecycle';
import { fieldIssue, listIssues } from '../domain/spec';

/** Records a refusal (who tried what, and why it did not count) before the sender hears it. */
export type OnRefused<T> = (message: T, why: string, n: number) => Promise<void>;
/** Decides whether a message counts; may ask an activity first (a signature check). */
export type Judge<T> = (message: T) => Verdict | Promise<Verdict>;

export class Inbox<T> {
  private readonly pending: { n: number; raw: unknown }[] = [];
  private readonly verdicts = new Map<number, Verdict>();
  private received = 0;
  /** How many messages were judged: numbers decision keys so each is recorded once. */
  handled = 0;
  /** True while a message taken from the queue is being judged (its judge may ask an activity). */
  judging = false;

  constructor(private readonly schema: z.ZodType<T>) {}

  push(raw: unknown): number {
    this.received += 1;
    this.pending.push({ n: this.received, raw });
    return this.received;
  }

  async pushAndAwait(raw: unknown): Promise<Verdict> {
    const n = this.push(raw);
    await condition(() => this.verdicts.has(n));
    return this.verdicts.get(n)!;
  }

  hasPending(): boolean {
    return this.pending.length > 0;
  }

  /** The oldest message, validated; an invalid one comes back with `invalid` set and an actor to blame. */
  take(): { message: T; n: number; invalid?: string } {
    const { n, raw } = this.pending.shift()!;
    this.handled = n;
    const parsed = this.schema.safeParse(raw);
    if (parsed.success) return { message: parsed.data, n };
    const actor = typeof (raw as { actor?: unknown })?.actor === 'string' ? (raw as { actor: string }).actor.slice(0, 64) : 'unknown';
    // Clipped and counted: the reason is recorded in history, the registry and the status query.
    const why = `invalid message: ${listIssues(
      parsed.error.issues.map((i) => fieldIssue(i)),
      5,
    ).join('; ')}`;
    return { message: { actor } as T, n, invalid: why };
  }

  /** Take everything already queued, e.g. requests that arrived before they could apply. */
  drain(): { message: T; n: number; invalid?: string }[] {
    const out = [];
    while (this.hasPending()) out.push(this.take());
    return out;
  }

  settle(n: number, verdict: Verdict): void {
    this.verdicts.set(n, verdict);
  }

  /**
   * Wait for the next message that counts. Every message is judged; refusals are recorded and
   * reported back to an update's caller, and the wait goes on.
   */
  async nextAccepted(judge: Judge<T>, onRefused: OnRefused<T>): Promise<T> {
    for (;;) {
      await condition(() => this.hasPending());
      const accepted = await this.judgeOldest(judge, onRefused);
      if (accepted) return accepted;
    }
  }

  /** Judge the oldest pending message: the message if it counts, null (recorded) if refused. */
  async judgeOldest(judge: Judge<T>, onRefused: OnRefused<T>): Promise<T | null> {
    const { message, n, invalid } = this.take();
    this.judging = true;
    try {
      const verdict: Verdict = invalid ? { accepted: false, why: invalid } : await judge(message);
      if (!verdict.accepted) await onRefused(message, verdict.why, n);
      this.settle(n, verdict);
      return verdict.accepted ? message : null;
    } finally {
      this.judging = false;
    }
  }

  /** Refuse everything already queued: messages that arrived before their stage (about an older version, or none yet). */
  async refuseQueued(why: string, onRefused: OnRefused<T>): Promise<void> {
    for (const stale of this.drain()) {
      await onRefused(stale.message, stale.invalid ?? why, stale.n);
      this.settle(stale.n, { accepted: false, why });
    }
  }
}
