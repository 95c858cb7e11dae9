import { defaultPayloadConverter } from '@temporalio/client';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EncryptionCodec, type Payload } from './codec';
import { allowedOriginsFor, startCodecServer, type CodecServer } from './codec-server';
import type { CodecKey } from './keys';

const token = randomBytes(32).toString('hex');
const ui = 'http://127.0.0.1:8233';
const k1: CodecKey = { id: 'k1', key: randomBytes(32), source: 'test' };
const codec = new EncryptionCodec({ primary: k1, keys: new Map([['k1', k1]]), places: ['env TEST_KEYS'] });
const thai = 'ส่งของช้ามาก แย่ที่สุด';
let server: CodecServer;

beforeAll(async () => {
  server = await startCodecServer({ host: '127.0.0.1', port: 0, codec, token, tokenSource: '/secrets/codec-server.token', uiUrl: ui });
});
afterAll(() => server?.close());

const toJson = (p: Payload) => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  data: Buffer.from(p.data ?? []).toString('base64'),
});
const fromJson = (p: { metadata: Record<string, string>; data: string }): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data, 'base64'),
});

async function call(path: string, init: { method?: string; headers?: Record<string, string>; body?: unknown } = {}) {
  // As a browser does: a preflight carries no body and no content type.
  const preflight = init.method === 'OPTIONS';
  const res = await fetch(`${server.url}${path}`, {
    method: init.method ?? 'POST',
    headers: preflight ? init.headers : { 'content-type': 'application/json', 'x-namespace': 'default', ...init.headers },
    body: preflight ? undefined : JSON.stringify(init.body ?? { payloads: [] }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

const bearer = { authorization: `Bearer ${token}` };

describe('codec server (Temporal remote codec protocol)', () => {
  it('decodes what the workers encrypted and encodes what it is given, with the bearer token', async () => {
    const sealed = await codec.encode([defaultPayloadConverter.toPayload({ text: thai })]);
    const decoded = await call('/decode', { headers: bearer, body: { payloads: sealed.map(toJson) } });
    expect(decoded.status).toBe(200);
    expect(defaultPayloadConverter.fromPayload(fromJson(decoded.body.payloads[0]))).toEqual({ text: thai });

    const encoded = await call('/encode', { headers: bearer, body: decoded.body });
    expect(encoded.status).toBe(200);
    expect(Buffer.from(encoded.body.payloads[0].metadata.encoding, 'base64').toString()).toBe('binary/encrypted');
    const [back] = await codec.decode(encoded.body.payloads.map(fromJson));
    expect(defaultPayloadConverter.fromPayload(back!)).toEqual({ text: thai });
  });

  it('serves the Web UI: token in the endpoint path, CORS for the UI origin, preflight answered', async () => {
    const preflight = await call(`/${token}/decode`, {
      method: 'OPTIONS',
      headers: { origin: ui, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(ui);
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/X-Namespace/);

    const sealed = await codec.encode([defaultPayloadConverter.toPayload(thai)]);
    const res = await call(`/${token}/decode`, { headers: { origin: ui }, body: { payloads: sealed.map(toJson) } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(ui);
    expect(defaultPayloadConverter.fromPayload(fromJson(res.body.payloads[0]))).toBe(thai);
  });

  it('refuses any other origin with 403, preflight included, without CORS headers, even with the token', async () => {
    for (const method of ['OPTIONS', 'POST']) {
      const res = await call(`/${token}/decode`, { method, headers: { origin: 'http://evil.example', ...bearer } });
      expect(res.status).toBe(403);
      expect(res.body.error).toMatch(
        /origin http:\/\/evil\.example may not use this codec server: it answers only the Temporal Web UI at http:\/\/127\.0\.0\.1:8233/,
      );
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
    }
  });

  it('refuses a missing or wrong token with 401, and never echoes the token it was given', async () => {
    const sealed = (await codec.encode([defaultPayloadConverter.toPayload(thai)])).map(toJson);
    const missing = await call('/decode', { body: { payloads: sealed } });
    expect(missing.status).toBe(401);
    expect(missing.body.error).toMatch(/no token: send "Authorization: Bearer <token>".*\/secrets\/codec-server\.token/);
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer/);

    const wrongToken = 'f'.repeat(64);
    for (const res of [
      await call('/decode', { headers: { authorization: `Bearer ${wrongToken}` }, body: { payloads: sealed } }),
      await call(`/${wrongToken}/decode`, { headers: { origin: ui }, body: { payloads: sealed } }),
    ]) {
      expect(res.status).toBe(401);
      expect(res.body.error).toMatch(/wrong token/);
      expect(JSON.stringify(res.body)).not.toContain(wrongToken);
      expect(JSON.stringify(res.body)).not.toContain(thai);
    }
    const basic = await call('/decode', { headers: { authorization: `Basic ${token}` }, body: { payloads: sealed } });
    expect(basic.status).toBe(401);
    // A right path token does not rescue a wrong header: the header is what the caller meant.
    expect((await call(`/${token}/decode`, { headers: { authorization: 'Bearer nope' }, body: { payloads: sealed } })).status).toBe(401);
  });

  it('says why a payload cannot be decrypted (422), and refuses bodies that are not Payloads (400)', async () => {
    const other: CodecKey = { id: 'retired', key: randomBytes(32), source: 'x' };
    const sealed = await new EncryptionCodec({ primary: other, keys: new Map([['retired', other]]), places: [] }).encode([
      defaultPayloadConverter.toPayload(1),
    ]);
    const unknown = await call('/decode', { headers: bearer, body: { payloads: sealed.map(toJson) } });
    expect(unknown.status).toBe(422);
    expect(unknown.body.error).toMatch(/codec key "retired", which this process does not have/);

    const bad = await call('/decode', { headers: bearer, body: { payload: [] } });
    expect(bad.status).toBe(400);
    expect((await call('/decode/extra/levels', { headers: bearer })).status).toBe(404);
  });

  it('a loopback UI is allowed under its loopback aliases only; another host under its own origin only', () => {
    expect(allowedOriginsFor('http://127.0.0.1:8233')).toEqual(['http://127.0.0.1:8233', 'http://localhost:8233', 'http://[::1]:8233']);
    expect(allowedOriginsFor('https://temporal.example.org/ui')).toEqual(['https://temporal.example.org']);
  });
});
