// The endpoint client against a real HTTP server that sheds requests as the endpoint does
// (503 under load, 429 over a key's rate, each with Retry-After).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CliError } from './cli-error';
import { postShed, type RetryPolicy } from './endpoint-client';

let server: Server | undefined;
afterEach(() => new Promise<void>((done) => (server ? server.close(() => done()) : done())));

/** A server answering each request with the next of `answers`, the last one for ever; returns its base URL and what it received. */
async function serve(answers: { status: number; retryAfter?: string; body: unknown }[]) {
  const received: { auth?: string; body: string }[] = [];
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ auth: req.headers.authorization, body });
      const a = answers[Math.min(received.length - 1, answers.length - 1)]!;
      res.writeHead(a.status, { 'content-type': 'application/json', ...(a.retryAfter ? { 'retry-after': a.retryAfter } : {}) });
      res.end(JSON.stringify(a.body));
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

const quiet = (lines: string[]): RetryPolicy => ({ attempts: 3, maxWaitSeconds: 30, say: (l) => lines.push(l) });
const overloaded = { status: 503, retryAfter: '0', body: { error: 'the endpoint is overloaded' } };

describe('endpoint client', () => {
  it('sends a shed request again after its Retry-After, saying so, and returns the answer', async () => {
    const { base, received } = await serve([overloaded, { status: 429, retryAfter: '0', body: { error: 'rate limit' } }, { status: 200, body: { ok: 1 } }]);
    const lines: string[] = [];
    expect(await postShed(base, '/score', 'k', { texts: ['ดี'] }, quiet(lines))).toEqual({ ok: 1 });
    expect(received).toEqual(Array(3).fill({ auth: 'Bearer k', body: JSON.stringify({ texts: ['ดี'] }) }));
    expect(lines).toEqual([
      'endpoint answered 503: the endpoint is overloaded; sending it again in 0 s (attempt 2 of 3)',
      'endpoint answered 429: rate limit; sending it again in 0 s (attempt 3 of 3)',
    ]);
  });

  it('gives up after its attempts, naming the status and the count', async () => {
    const { base, received } = await serve([overloaded]);
    const err = await postShed(base, '/score', 'k', {}, quiet([])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as Error).message).toBe('endpoint answered 503: the endpoint is overloaded (gave up after 3 attempts)');
    expect(received).toHaveLength(3);
  });

  it('does not retry what retrying cannot fix, and caps a long Retry-After', async () => {
    const bad = await serve([{ status: 400, body: { error: 'texts: at most 256' } }]);
    await expect(postShed(bad.base, '/score', 'k', {}, quiet([]))).rejects.toThrow(/^endpoint answered 400: texts: at most 256$/);
    expect(bad.received).toHaveLength(1);
    await new Promise<void>((r) => server!.close(() => r()));

    const { base } = await serve([
      { status: 503, retryAfter: '3600', body: {} },
      { status: 200, body: { ok: 2 } },
    ]);
    const lines: string[] = [];
    expect(await postShed(base, '/score', 'k', {}, { ...quiet(lines), maxWaitSeconds: 0 })).toEqual({ ok: 2 });
    expect(lines).toEqual(['endpoint answered 503: {}; sending it again in 0 s (attempt 2 of 3)']); // not the hour it asked for
  });
});
