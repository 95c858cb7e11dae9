// What the endpoint refuses before it does any work, so that overload slows nobody down: a
// request past its time limit, a process past its memory or event-loop bounds (503), a key
// past its rate limit (429), each with Retry-After. Registered first, so their hooks run
// before the routes' own.
import rateLimit from '@fastify/rate-limit';
import underPressure from '@fastify/under-pressure';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpError } from './http-error';
import type { EndpointLimits } from './limits';

function describePressure(type: string, value: number | undefined, limits: EndpointLimits['pressure']): string {
  const mib = (b: number) => `${Math.round(b / 1024 / 1024)} MiB`;
  switch (type) {
    case underPressure.TYPE_EVENT_LOOP_DELAY:
      return `event-loop delay ${Math.round(value ?? 0)} ms, the bound is ${limits.maxEventLoopDelayMs} ms`;
    case underPressure.TYPE_HEAP_USED_BYTES:
      return `heap ${mib(value ?? 0)} used, the bound is ${mib(limits.maxHeapUsedBytes)}`;
    case underPressure.TYPE_RSS_BYTES:
      return `resident memory ${mib(value ?? 0)}, the bound is ${mib(limits.maxRssBytes)}`;
    default:
      return type;
  }
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A route's own pressure handler, which @fastify/under-pressure reads but its types do not declare. */
    pressureHandler?: () => void;
  }
}

/** A route's config that serves it past the pressure bounds: its own handler, which lets it through. */
export const exemptFromPressure = { pressureHandler: () => undefined };

/**
 * `identityOf`: the short hash naming the request's valid API key, or null; requests without
 * one are rate-limited per client address.
 */
export async function registerGuards(app: FastifyInstance, limits: EndpointLimits, identityOf: (req: FastifyRequest) => string | null): Promise<void> {
  const retryAfter = { 'retry-after': String(limits.pressure.retryAfterSeconds) };

  // First of all hooks, so every answer carries the id, refusals by the plugins below included.
  // The time limit is ours, not fastify's handlerTimeout: that one stops counting once the
  // body has been read (Node 20 emits the request's 'close' then), so a queued request would
  // wait forever.
  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
    const timer = setTimeout(() => {
      if (reply.sent) return;
      const message = `no answer within ${limits.requestTimeoutMs} ms (the endpoint's request time limit): it is busy; retry later, or send fewer texts per request`;
      reply.send(new HttpError(503, message, {}, retryAfter, true));
    }, limits.requestTimeoutMs);
    reply.raw.once('close', () => clearTimeout(timer));
  });

  await app.register(underPressure, {
    maxEventLoopDelay: limits.pressure.maxEventLoopDelayMs,
    maxHeapUsedBytes: limits.pressure.maxHeapUsedBytes,
    maxRssBytes: limits.pressure.maxRssBytes,
    sampleInterval: limits.pressure.sampleIntervalMs,
    retryAfter: limits.pressure.retryAfterSeconds,
    pressureHandler: async (_req, _reply, type, value) => {
      const why = describePressure(type, value, limits.pressure);
      throw new HttpError(
        503,
        `the endpoint is overloaded (${why}) and sheds requests until it recovers: retry after ${limits.pressure.retryAfterSeconds} s`,
        {},
        retryAfter,
        true,
      );
    },
  });

  await app.register(rateLimit, {
    global: true,
    max: limits.rateLimit.max,
    timeWindow: limits.rateLimit.windowMs,
    // A short hash of the key, never the key: the store's keys may be logged or inspected.
    keyGenerator: (req) => identityOf(req) ?? `ip:${req.ip}`,
    errorResponseBuilder: (_req, context) =>
      new HttpError(
        429,
        `rate limit: more than ${context.max} requests in ${limits.rateLimit.windowMs / 1000} s from this API key (without a valid key: from this address); retry after ${context.after}`,
        {},
        {},
        true,
      ),
  });
}
