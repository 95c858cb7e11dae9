import { mkdtemp, stat, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkStatement, type ExpectedDecision } from '../../domain/decision-statement';
import { signDecision, openDecision, type UnsignedPredicate } from './decisions';
import { pae } from './dsse';
import { generateSigningKey, initPrivateKey, loadOrCreateServiceKey, loadPrivateKey, parsePublicKey } from './keys';

const alice = generateSigningKey();
const bob = generateSigningKey();
const trusted = [
  { name: 'alice', publicKey: alice.publicKey },
  { name: 'bob', publicKey: bob.publicKey },
];
const manifest = 'a'.repeat(64);
const evaluation = 'b'.repeat(64);
const predicate: UnsignedPredicate = {
  lifecycle: 'mlc-m-1',
  generation: 1,
  model: 'm',
  version: 3,
  decision: 'approve',
  actor: 'alice',
  reason: 'meets the bar',
};
const now = new Date('2026-11-29T08:00:00Z');
const expected: ExpectedDecision = {
  lifecycle: 'mlc-m-1',
  generation: 1,
  decisions: ['approve', 'reject'],
  version: 3,
  subjects: { manifestSha256: manifest, evaluationSha256: evaluation },
  now,
  seenNonces: new Set(),
};

describe('DSSE', () => {
  it('encodes PAE as the DSSE spec shows', () => {
    expect(pae('http://example.com/HelloWorld', Buffer.from('hello world')).toString()).toBe('DSSEv1 29 http://example.com/HelloWorld 11 hello world');
  });
});

describe('signed decisions', () => {
  const signed = signDecision(predicate, { manifestSha256: manifest, evaluationSha256: evaluation }, alice, now);

  it('opens and passes every check when signed by the named actor about the version at stake', () => {
    const opened = openDecision(signed, trusted);
    expect(opened).toMatchObject({ ok: true, signer: 'alice' });
    if (!opened.ok) return;
    expect(checkStatement(opened.statement, expected)).toEqual({ accepted: true });
  });

  it('refuses a forged signature, an altered payload and a claim of someone else’s name', () => {
    const forged = { ...signed, signatures: [{ ...signed.signatures[0]!, sig: Buffer.alloc(64, 1).toString('base64') }] };
    expect(openDecision(forged, trusted)).toMatchObject({ ok: false, why: expect.stringContaining('does not verify') });
    const statement = JSON.parse(Buffer.from(signed.payload, 'base64').toString());
    statement.predicate.reason = 'changed after signing';
    expect(openDecision({ ...signed, payload: Buffer.from(JSON.stringify(statement)).toString('base64') }, trusted)).toMatchObject({ ok: false });
    const impostor = signDecision({ ...predicate, actor: 'alice' }, expected.subjects, bob, now);
    expect(openDecision(impostor, trusted)).toMatchObject({ ok: false, why: expect.stringContaining("alice's registered key") });
    expect(openDecision(signDecision({ ...predicate, actor: 'carol' }, expected.subjects, bob, now), trusted)).toMatchObject({
      ok: false,
      why: expect.stringContaining('no public key is registered for carol'),
    });
    expect(openDecision({ payload: 'x' }, trusted)).toMatchObject({ ok: false, why: expect.stringContaining('not a DSSE envelope') });
  });

  it('refuses a statement about another version, other evidence, a replay, or one that expired', () => {
    const opened = openDecision(signed, trusted);
    if (!opened.ok) throw new Error(opened.why);
    const s = opened.statement;
    expect(checkStatement(s, { ...expected, version: 4 }).accepted).toBe(false);
    expect(checkStatement(s, { ...expected, subjects: { ...expected.subjects, manifestSha256: 'c'.repeat(64) } })).toMatchObject({
      why: expect.stringContaining('artifact manifest'),
    });
    expect(checkStatement(s, { ...expected, seenNonces: new Set([s.predicate.nonce]) })).toMatchObject({ why: expect.stringContaining('replayed') });
    expect(checkStatement(s, { ...expected, now: new Date('2026-12-01T00:00:00Z') })).toMatchObject({ why: expect.stringContaining('expired') });
    expect(checkStatement(s, { ...expected, generation: 2 }).accepted).toBe(false);
    expect(checkStatement(s, { ...expected, decisions: ['deploy'] })).toMatchObject({ why: expect.stringContaining('"approve"') });
  });
});

describe('key files', () => {
  it('writes a 0600 key once, loads it back, and refuses one others can read', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'mlc-keys-'));
    const { path: file, publicKey } = await initPrivateKey('alice', dir);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(() => parsePublicKey(publicKey)).not.toThrow();
    expect((await loadPrivateKey('alice', dir)).publicKey).toBe(publicKey);
    await expect(initPrivateKey('alice', dir)).rejects.toThrow(/exists already/);
    await chmod(file, 0o644);
    await expect(loadPrivateKey('alice', dir)).rejects.toThrow(/chmod 600/);
    await expect(loadPrivateKey('nobody', dir)).rejects.toThrow(/mlc keys init --as nobody/);
    await writeFile(path.join(dir, 'x'), '');
    expect(() => parsePublicKey('ssh-ed25519 AAAA')).toThrow(/ed25519:/);
  });

  it('gives workers starting at once one service key, never a half-written file', async () => {
    const file = path.join(await mkdtemp(path.join(tmpdir(), 'mlc-keys-')), 'secrets', 'worker-signing.key');
    const keys = await Promise.all(Array.from({ length: 12 }, () => loadOrCreateServiceKey(file)));
    expect(new Set(keys.map((k) => k.publicKey)).size).toBe(1);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });
});
