import { defaultPayloadConverter } from '@temporalio/client';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ENCRYPTED_ENCODING, EncryptionCodec, KEY_ID_METADATA, PayloadDecryptionError, type Payload } from './codec';
import type { CodecKey, Keyring } from './keys';

function keyring(...ids: string[]): Keyring {
  const keys = ids.map((id): CodecKey => ({ id, key: randomBytes(32), source: `test ${id}` }));
  return { primary: keys[0]!, keys: new Map(keys.map((k) => [k.id, k])), places: ['env TEST_KEYS', '/keys'] };
}

const value = { name: 'thai-sentiment', description: 'ร้านนี้อร่อยมาก', data: { path: '/srv/data/secret-corpus.jsonl' } };
const plain = () => defaultPayloadConverter.toPayload(value);
const text = (b: Uint8Array | null | undefined) => Buffer.from(b ?? []).toString('utf8');

describe('EncryptionCodec', () => {
  it('encrypts with the primary key, in the format Temporal tools recognise, and decrypts back', async () => {
    const codec = new EncryptionCodec(keyring('k2', 'k1'));
    const [sealed] = await codec.encode([plain()]);
    expect(text(sealed!.metadata!.encoding)).toBe(ENCRYPTED_ENCODING);
    expect(text(sealed!.metadata![KEY_ID_METADATA])).toBe('k2');
    const bytes = Buffer.from(sealed!.data!);
    for (const secret of [value.description, value.data.path, value.name]) expect(bytes.includes(Buffer.from(secret))).toBe(false);
    const [opened] = await codec.decode([sealed!]);
    expect(defaultPayloadConverter.fromPayload(opened!)).toEqual(value);
    expect(text(opened!.metadata!.encoding)).toBe('json/plain');
  });

  it('the same value encrypts differently each time (a fresh IV)', async () => {
    const codec = new EncryptionCodec(keyring('k1'));
    const [a, b] = await codec.encode([plain(), plain()]);
    expect(Buffer.from(a!.data!).equals(Buffer.from(b!.data!))).toBe(false);
  });

  it('after a rotation, payloads under the old key still decrypt while it stays listed', async () => {
    const before = keyring('k1');
    const [old] = await new EncryptionCodec(before).encode([plain()]);
    const k2: CodecKey = { id: 'k2', key: randomBytes(32), source: 'test k2' };
    const after = new EncryptionCodec({ primary: k2, keys: new Map([['k2', k2], ...before.keys]), places: [] });
    const [fresh] = await after.encode([plain()]);
    expect(text(fresh!.metadata![KEY_ID_METADATA])).toBe('k2');
    const decoded = await after.decode([old!, fresh!]);
    expect(decoded.map((p) => defaultPayloadConverter.fromPayload(p))).toEqual([value, value]);
  });

  it('an unknown key id names the id, the keys this process has and where to add it', async () => {
    const [sealed] = await new EncryptionCodec(keyring('gone')).encode([plain()]);
    const err = await new EncryptionCodec(keyring('k1')).decode([sealed!]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PayloadDecryptionError);
    expect((err as Error).message).toMatch(/codec key "gone", which this process does not have \(it has k1\).*env TEST_KEYS, \/keys/);
  });

  it('a different key under the same id, or an altered payload, fails authentication', async () => {
    const [sealed] = await new EncryptionCodec(keyring('k1')).encode([plain()]);
    await expect(new EncryptionCodec(keyring('k1')).decode([sealed!])).rejects.toThrow(/fails authentication/);
    const ring = keyring('k1');
    const codec = new EncryptionCodec(ring);
    const [good] = await codec.encode([plain()]);
    const altered: Payload = { ...good, data: Buffer.from(good!.data!).map((b, i) => (i === 20 ? b ^ 1 : b)) };
    await expect(codec.decode([altered])).rejects.toThrow(/altered/);
  });

  it('payloads that are not encrypted (older history, a plain temporal CLI) pass through unchanged', async () => {
    const codec = new EncryptionCodec(keyring('k1'));
    const p = plain();
    expect(await codec.decode([p])).toEqual([p]);
  });
});
