// What the local endpoint accepts before it refuses work: per-key rate limits (429), body size
// (413), a time limit per request and load shedding (503), all with Retry-After, and how it
// batches concurrent requests. The defaults suit one worker on a small machine; the worker
// passes them (or the configured ones) to startEndpoint.
import { getHeapStatistics } from 'node:v8';
import { totalmem } from 'node:os';
import { z } from 'zod';

/** The largest request body (413 beyond): 256 texts of 5,000 characters fit, in UTF-8 or not quite. */
export const MAX_BODY_BYTES = 1024 * 1024;

export interface EndpointLimits {
  /** Requests each API key may make per window (without a valid key: each client address); then 429 with Retry-After. */
  rateLimit: { max: number; windowMs: number };
  maxBodyBytes: number;
  /** A request not answered within this (body, queue, scoring, logging included) gets 503 with Retry-After. */
  requestTimeoutMs: number;
  /** Load shedding: every request gets 503 with Retry-After while the process is past any bound (0: that check is off). */
  pressure: { maxEventLoopDelayMs: number; maxHeapUsedBytes: number; maxRssBytes: number; sampleIntervalMs: number; retryAfterSeconds: number };
  batching: { maxBatchTexts: number; maxWaitMs: number; maxPendingTexts: number };
}

export type EndpointLimitsInput = { [K in keyof EndpointLimits]?: EndpointLimits[K] extends object ? Partial<EndpointLimits[K]> : EndpointLimits[K] };

/** The memory a process may use here: the cgroup's limit when it has one (a container), else the machine's. */
function memoryBudget(): number {
  const constrained = process.constrainedMemory?.() ?? 0;
  return constrained > 0 ? Math.min(constrained, totalmem()) : totalmem();
}

export const DEFAULT_ENDPOINT_LIMITS: EndpointLimits = {
  // 1,000 requests a second per key, over a minute: about half of what one worker answers to
  // single-text clients on 2 cores (bench/README.md), so one key cannot take it all from the
  // others, and the single default key is not throttled below what the endpoint can serve.
  // Bulk clients send up to 256 texts per request instead. With one key per client, lower it.
  rateLimit: { max: 60_000, windowMs: 60_000 },
  maxBodyBytes: MAX_BODY_BYTES,
  // Long enough for a 256-text request behind a full queue on two cores; short enough that a
  // client retries elsewhere instead of holding a socket.
  requestTimeoutMs: 30_000,
  pressure: {
    // A second of mean event-loop delay means requests already wait far longer than they take.
    maxEventLoopDelayMs: 1000,
    // Shed before V8 runs out of heap (it aborts the process) and before the container's OOM killer.
    maxHeapUsedBytes: Math.floor(getHeapStatistics().heap_size_limit * 0.85),
    maxRssBytes: Math.floor(memoryBudget() * 0.85),
    sampleIntervalMs: 1000,
    retryAfterSeconds: 5,
  },
  // 32: the ONNX scorer's own batch size, where it is ~1.5x faster per text than one at a time.
  // No wait: a batch takes what has arrived by the end of the event-loop turn. With a copy of
  // the model per core (endpoint.scoring: threads) a free copy scoring a small batch now beat
  // waiting 2 ms for a bigger one (938 against 765 texts/s, 16 clients, bench/README.md); on the
  // event loop the two measured alike.
  // 4,096 texts waiting is at most ~80 MB (kept as sent and normalized), and seconds of work:
  // past it, shed.
  batching: { maxBatchTexts: 32, maxWaitMs: 0, maxPendingTexts: 4096 },
};

const count = z.number().int().positive();
const bound = z.number().int().nonnegative();
const limitsSchema = z.strictObject({
  rateLimit: z.strictObject({ max: count, windowMs: count }),
  maxBodyBytes: count,
  requestTimeoutMs: count,
  pressure: z.strictObject({
    maxEventLoopDelayMs: bound,
    maxHeapUsedBytes: bound,
    maxRssBytes: bound,
    // The delay histogram samples every 10 ms; an interval with no sample reads as an infinite
    // delay in @fastify/under-pressure, so an interval must hold several.
    sampleIntervalMs: count.min(50, 'must be at least 50 ms, so each interval holds several 10 ms event-loop samples'),
    retryAfterSeconds: count,
  }),
  batching: z.strictObject({ maxBatchTexts: count, maxWaitMs: bound, maxPendingTexts: count }),
});

export class EndpointLimitsError extends Error {
  override name = 'EndpointLimitsError';
}

/** The defaults with `input` laid over them, checked: a bad value names its field. */
export function resolveLimits(input: EndpointLimitsInput = {}, defaults: EndpointLimits = DEFAULT_ENDPOINT_LIMITS): EndpointLimits {
  const merged = {
    ...defaults,
    ...input,
    rateLimit: { ...defaults.rateLimit, ...input.rateLimit },
    pressure: { ...defaults.pressure, ...input.pressure },
    batching: { ...defaults.batching, ...input.batching },
  };
  const result = limitsSchema.safeParse(merged);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new EndpointLimitsError(`invalid endpoint limits: ${issues}`);
  }
  return result.data;
}
