// Property test for the inbox every signal and update goes through: whatever JSON a person
// sends, taking it from the queue never throws, an invalid message comes back refused with an
// actor to blame and a reason short enough to record (in history, the registry and the status
// query), and the verdict is settled for an update's caller.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Verdict } from '../domain/lifecycle';
import { fuzzSeed, fuzzTimeoutMs, mutated, nastyJson, shown } from '../test/fuzz/arbitraries';
import { messageKinds, situation } from '../test/fuzz/messages';
import { Inbox } from './inbox';

/** The longest refusal reason the inbox may record. */
const maxWhy = 4_000;

describe.each(messageKinds)('Inbox of $name messages (property)', (kind) => {
  it(
    'judges every message: accepted, or refused and recorded with a bounded reason',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(shown(fc.oneof(mutated(kind.example), nastyJson)), { minLength: 1, maxLength: 5 }), situation, async (raws, s) => {
          const inbox = new Inbox(kind.schema);
          const refused: { actor: unknown; why: string; n: number }[] = [];
          const ns = raws.map((r) => inbox.push(r.value));
          const judged: unknown[] = [];
          while (inbox.hasPending()) {
            judged.push(
              await inbox.judgeOldest(
                (m) => kind.judge(m, s),
                async (m, why, n) => {
                  refused.push({ actor: (m as { actor?: unknown }).actor, why, n });
                },
              ),
            );
          }
          expect(judged).toHaveLength(raws.length);
          expect(inbox.handled).toBe(ns.at(-1));
          expect(refused.length).toBe(judged.filter((j) => j === null).length);
          for (const r of refused) {
            expect(typeof r.actor).toBe('string');
            expect((r.actor as string).length).toBeLessThanOrEqual(64);
            expect(r.why.trim()).not.toBe('');
            expect(r.why.length).toBeLessThanOrEqual(maxWhy);
          }
          // An update's caller hears the same verdict that was recorded (read from the map pushAndAwait waits on).
          const verdicts = ns.map((n) => (inbox as unknown as { verdicts: Map<number, Verdict> }).verdicts.get(n));
          expect(verdicts.every((v) => v !== undefined)).toBe(true);
          expect(verdicts.filter((v) => !v!.accepted).map((v) => (v as { why: string }).why)).toEqual(refused.map((r) => r.why));
        }),
        { numRuns: 200, seed: fuzzSeed },
      );
    },
    fuzzTimeoutMs,
  );
});

describe('counterexamples found by the property', () => {
  it('a signal with a 100 kB unknown key is refused with a clipped reason', async () => {
    const [audit] = messageKinds;
    const inbox = new Inbox(audit!.schema);
    inbox.push({ ...audit!.example, ['x'.repeat(100_000)]: 1 });
    const reasons: string[] = [];
    expect(
      await inbox.judgeOldest(
        () => ({ accepted: true }),
        async (_m, why) => {
          reasons.push(why);
        },
      ),
    ).toBeNull();
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatch(/^invalid message: \(root\): Unrecognized key: "x+… \(\d+ more characters\)$/);
    expect(reasons[0]!.length).toBeLessThan(500);
  });
});
