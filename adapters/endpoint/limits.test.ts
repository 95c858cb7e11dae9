import { getHeapStatistics } from 'node:v8';
import { totalmem } from 'node:os';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ENDPOINT_LIMITS, resolveLimits } from './limits';

describe('endpoint limits', () => {
  it('lays what is given over the defaults, field by field', () => {
    const limits = resolveLimits({ batching: { maxWaitMs: 5 }, rateLimit: { max: 10 } });
    expect(limits.batching).toEqual({ ...DEFAULT_ENDPOINT_LIMITS.batching, maxWaitMs: 5 });
    expect(limits.rateLimit).toEqual({ max: 10, windowMs: DEFAULT_ENDPOINT_LIMITS.rateLimit.windowMs });
    expect(limits.pressure).toEqual(DEFAULT_ENDPOINT_LIMITS.pressure);
  });

  it('sheds before the heap or the machine runs out', () => {
    const { pressure } = DEFAULT_ENDPOINT_LIMITS;
    expect(pressure.maxHeapUsedBytes).toBeGreaterThan(0);
    expect(pressure.maxHeapUsedBytes).toBeLessThan(getHeapStatistics().heap_size_limit);
    expect(pressure.maxRssBytes).toBeGreaterThan(0);
    expect(pressure.maxRssBytes).toBeLessThan(totalmem());
  });

  it('names each bad field', () => {
    expect(() => resolveLimits({ batching: { maxBatchTexts: 0 }, requestTimeoutMs: 1.5 })).toThrow(
      /^invalid endpoint limits: requestTimeoutMs: .*; batching\.maxBatchTexts: /,
    );
    expect(() => resolveLimits({ pressure: { sampleIntervalMs: 10 } })).toThrow(/pressure\.sampleIntervalMs: must be at least 50 ms/);
  });
});
