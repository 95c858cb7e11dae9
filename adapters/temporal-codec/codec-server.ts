// The codec server: Temporal's remote codec protocol (POST …/decode and …/encode with
// {"payloads": [{"metadata": {k: base64}, "data": base64}]}), so the Web UI and the `temporal`
// CLI show payloads in clear while the server and its database only ever hold ciphertext.
//
// Who may call:
// - a browser only from the Web UI's origin (temporal.uiUrl; on a loopback host, its loopback
//   aliases too): any other Origin gets 403, preflight included, and no CORS headers;
// - every caller with the codec server token: "Authorization: Bearer <token>" (the `temporal`
//   CLI's --codec-auth, scripts), or as the endpoint URL's first path segment,
//   http://host:port/<token>, because the Web UI sends no Authorization header to a plain-http
//   codec endpoint (its "pass access token" needs https and its own login). So the URL itself
//   is a secret: nothing here logs request URLs.
// X-Namespace is not checked: one set of keys serves every namespace.
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { PayloadDecryptionError, type Payload, type PayloadCodec } from './codec';

/** Temporal limits one payload to 2 MB by default; a request may carry a few. */
export const MAX_BODY_BYTES = 8 * 1024 * 1024;

export interface CodecServerOptions {
  host: string;
  /** 0 picks a free port; the returned url has the real one. */
  port: number;
  codec: PayloadCodec;
  token: string;
  /** Where the token is kept (a file path or "env NAME"), for the 401 message; never the token. */
  tokenSource: string;
  /** temporal.uiUrl: the one origin browsers may call from. */
  uiUrl: string;
  /** Told about failures the caller only sees as a 500. */
  onError?: (error: unknown) => void;
}

export interface CodecServer {
  /** http://host:port, without the token. */
  url: string;
  allowedOrigins: string[];
  close(): Promise<void>;
}

const base64 = z.string().regex(/^[A-Za-z0-9+/_-]*={0,2}$/, 'base64');
const payloadsBody = z.object({
  payloads: z.array(z.object({ metadata: z.record(z.string(), base64).nullish(), data: base64.nullish() })),
});
/** A payload as the remote codec protocol carries it: base64 metadata values and data. */
export type JsonPayload = z.infer<typeof payloadsBody>['payloads'][number];

/** http://host:port, an IPv6 host in brackets. */
export function httpUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** The URL a client on this machine calls for a server bound to host:port (a wildcard bind is reached on loopback). */
export function localUrl(host: string, port: number): string {
  return httpUrl(host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host, port);
}

/** The UI's origin; a loopback UI is the same page whether opened as 127.0.0.1, localhost or [::1]. */
export function allowedOriginsFor(uiUrl: string): string[] {
  const ui = new URL(uiUrl);
  const loopback = ['127.0.0.1', 'localhost', '[::1]'];
  if (!loopback.includes(ui.hostname)) return [ui.origin];
  return loopback.map((host) => `${ui.protocol}//${host}${ui.port ? `:${ui.port}` : ''}`);
}

export async function startCodecServer(options: CodecServerOptions): Promise<CodecServer> {
  const allowedOrigins = allowedOriginsFor(options.uiUrl);
  const expected = digest(options.token);
  const app = Fastify({ logger: false, bodyLimit: MAX_BODY_BYTES });

  app.addHook('onRequest', async (req, reply) => {
    const origin = req.headers.origin;
    if (origin === undefined) return; // not a browser: the token alone decides
    if (!allowedOrigins.includes(origin)) {
      return reply.code(403).send({
        error: `origin ${origin} may not use this codec server: it answers only the Temporal Web UI at ${allowedOrigins[0]} (temporal.uiUrl; set TEMPORAL_UI_URL if the UI lives elsewhere)`,
      });
    }
    reply.headers({ 'access-control-allow-origin': origin, 'access-control-allow-credentials': 'true', vary: 'Origin' });
  });

  app.get('/health', async () => ({ ok: true }));

  app.route({
    method: ['POST', 'OPTIONS'],
    url: '/*',
    handler: async (req, reply) => {
      const parts = new URL(req.url, 'http://codec').pathname.split('/').filter(Boolean);
      const action = parts.at(-1);
      if ((action !== 'decode' && action !== 'encode') || parts.length > 2) {
        return reply.code(404).send({ error: 'not a codec endpoint: POST /decode or /encode, or /<token>/decode and /<token>/encode' });
      }
      if (req.method === 'OPTIONS') {
        // A preflight never carries credentials; the request that follows must.
        return reply
          .code(204)
          .headers({
            'access-control-allow-methods': 'POST, OPTIONS',
            'access-control-allow-headers': 'Content-Type, X-Namespace, Authorization',
            'access-control-max-age': '600',
          })
          .send();
      }
      const refusal = checkToken(req, parts.length === 2 ? parts[0] : undefined, expected, options.tokenSource);
      if (refusal) return reply.code(401).header('www-authenticate', 'Bearer realm="mlc codec server"').send({ error: refusal });
      const body = payloadsBody.safeParse(req.body);
      if (!body.success) {
        return reply
          .code(400)
          .send({ error: `the body must be {"payloads": [{"metadata": {name: base64}, "data": base64}, ...]}: ${body.error.issues[0]?.message}` });
      }
      return convert(action, body.data.payloads, options, reply);
    },
  });

  await app.listen({ host: options.host, port: options.port });
  const { port } = app.server.address() as AddressInfo;
  return { url: httpUrl(options.host, port), allowedOrigins, close: () => app.close() };
}

/** Why the caller is refused, or null when it presented the token. */
function checkToken(req: FastifyRequest, pathToken: string | undefined, expected: Buffer, tokenSource: string): string | null {
  const header = req.headers.authorization;
  let presented = pathToken;
  if (header !== undefined) {
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!bearer) return 'the Authorization header must be "Bearer <token>"';
    presented = bearer[1];
  }
  if (!presented) {
    return `no token: send "Authorization: Bearer <token>" (temporal CLI: --codec-auth "Bearer <token>") or call http://host:port/<token>/decode; the token is in ${tokenSource}`;
  }
  return timingSafeEqual(digest(presented), expected) ? null : `wrong token: this codec server's token is in ${tokenSource}`;
}

async function convert(action: 'decode' | 'encode', json: JsonPayload[], options: CodecServerOptions, reply: FastifyReply) {
  try {
    const payloads = json.map(fromJson);
    const converted = action === 'decode' ? await options.codec.decode(payloads) : await options.codec.encode(payloads);
    return { payloads: converted.map(toJson) };
  } catch (err) {
    if (err instanceof PayloadDecryptionError) return reply.code(422).send({ error: err.message });
    options.onError?.(err);
    return reply.code(500).send({ error: `${action} failed inside the codec server; its log says why` });
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

export function fromJson({ metadata, data }: JsonPayload): Payload {
  return {
    metadata: Object.fromEntries(Object.entries(metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
    data: Buffer.from(data ?? '', 'base64'),
  };
}

export function toJson({ metadata, data }: Payload): JsonPayload {
  return {
    metadata: Object.fromEntries(Object.entries(metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
    data: Buffer.from(data ?? new Uint8Array()).toString('base64'),
  };
}
