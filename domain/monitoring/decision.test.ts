import { describe, expect, it } from 'vitest';
import { decideRetrain, windowStartAfter, type PastWindow } from './decision';

const w = (i: number, o: Partial<PastWindow> = {}): PastWindow => ({
  reportKey: `r${i}`,
  version: 1,
  windowStart: `2026-01-01T0${i}:00:00.000Z`,
  windowEnd: `2026-01-01T0${i + 1}:00:00.000Z`,
  judged: true,
  driftJudged: true,
  breached: false,
  ...o,
});

describe('decideRetrain', () => {
  const now = { judged: true, breached: true, version: 1 };

  it('one breached window is not enough at the default of 2; the next breached one is', () => {
    expect(decideRetrain(now, [w(1)], 2)).toMatchObject({ degraded: false, streak: 1, reason: expect.stringMatching(/1 of 2 consecutive/) });
    expect(decideRetrain(now, [w(2, { breached: true }), w(1)], 2)).toMatchObject({
      degraded: true,
      streak: 2,
      reason: expect.stringMatching(/2 consecutive windows breached/),
    });
  });

  it('a healthy window in between breaks the streak; a window with nothing to judge does not', () => {
    expect(decideRetrain(now, [w(3), w(2, { breached: true })], 2).degraded).toBe(false);
    expect(decideRetrain(now, [w(3, { judged: false }), w(2, { breached: true })], 2).degraded).toBe(true);
  });

  it('windows of another version do not count', () => {
    expect(decideRetrain(now, [w(2, { breached: true, version: 0 })], 2).degraded).toBe(false);
  });

  it('consecutive 1 retrains on the first breach; a healthy window never does', () => {
    expect(decideRetrain(now, [], 1).degraded).toBe(true);
    expect(decideRetrain({ ...now, breached: false }, [w(1, { breached: true })], 1)).toMatchObject({ degraded: false, streak: 0 });
  });
});

describe('windowStartAfter', () => {
  it('starts after the last window of this version that judged drift, else at the deployment', () => {
    const past = [w(3, { driftJudged: false }), w(2), w(1)];
    expect(windowStartAfter(past, 1, '2026-01-01T00:00:00.000Z')).toBe(w(2).windowEnd);
    expect(windowStartAfter(past, 2, '2026-01-01T05:00:00.000Z')).toBe('2026-01-01T05:00:00.000Z');
    // A redeployed (rolled back) version starts fresh at its new deployment.
    expect(windowStartAfter(past, 1, '2026-01-01T08:00:00.000Z')).toBe('2026-01-01T08:00:00.000Z');
  });
});
