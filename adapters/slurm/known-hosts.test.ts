import { createHmac, randomBytes } from 'node:crypto';
import ssh2 from 'ssh2';
import { describe, expect, it } from 'vitest';
import { fingerprint, hostKeyAlgorithms, keyTypeOf, knownHostsName, parseKnownHosts, pinnedKeys, verifyHostKey } from './known-hosts';

const pub = (type: 'ed25519' | 'ecdsa' = 'ed25519') => {
  const k = ssh2.utils.generateKeyPairSync(type, type === 'ecdsa' ? { bits: 256 } : (undefined as never)).public;
  const [t, b64] = k.split(' ') as [string, string];
  return { type: t, b64, blob: Buffer.from(b64, 'base64') };
};
const hashed = (name: string) => {
  const salt = randomBytes(20);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
};

describe('known_hosts', () => {
  const a = pub();
  const b = pub();
  const c = pub('ecdsa');

  it('uses [host]:port for non-22 ports, like OpenSSH', () => {
    expect(knownHostsName('Cluster.Example', 22)).toBe('cluster.example');
    expect(knownHostsName('127.0.0.1', 2222)).toBe('[127.0.0.1]:2222');
  });

  it('matches [host]:port entries only on that port', () => {
    const entries = parseKnownHosts(`# pinned\n[127.0.0.1]:2222 ${a.type} ${a.b64} root@dev\n127.0.0.1 ${b.type} ${b.b64}\n`);
    expect(verifyHostKey(pinnedKeys(entries, '127.0.0.1', 2222), a.blob)).toBe('ok');
    expect(verifyHostKey(pinnedKeys(entries, '127.0.0.1', 2222), b.blob)).toBe('mismatch');
    expect(verifyHostKey(pinnedKeys(entries, '127.0.0.1', 22), b.blob)).toBe('ok');
    expect(verifyHostKey(pinnedKeys(entries, '127.0.0.1', 2200), a.blob)).toBe('unknown');
  });

  it('matches hashed entries', () => {
    const entries = parseKnownHosts(`${hashed('[login.hpc]:2222')} ${a.type} ${a.b64}\n${hashed('other')} ${b.type} ${b.b64}\n`);
    expect(verifyHostKey(pinnedKeys(entries, 'login.hpc', 2222), a.blob)).toBe('ok');
    expect(verifyHostKey(pinnedKeys(entries, 'login.hpc', 2222), b.blob)).toBe('mismatch');
    expect(verifyHostKey(pinnedKeys(entries, 'login.hpc', 22), a.blob)).toBe('unknown');
  });

  it('handles comma lists, wildcards and negation', () => {
    const entries = parseKnownHosts(`login1.hpc,*.hpc,!evil.hpc ${a.type} ${a.b64}`);
    expect(verifyHostKey(pinnedKeys(entries, 'login1.hpc', 22), a.blob)).toBe('ok');
    expect(verifyHostKey(pinnedKeys(entries, 'node7.hpc', 22), a.blob)).toBe('ok');
    expect(verifyHostKey(pinnedKeys(entries, 'evil.hpc', 22), a.blob)).toBe('unknown');
    expect(verifyHostKey(pinnedKeys(entries, 'xhpc', 22), a.blob)).toBe('unknown');
  });

  it('accepts any of several pinned keys and refuses @revoked ones', () => {
    const entries = parseKnownHosts(`h ${a.type} ${a.b64}\nh ${c.type} ${c.b64}\n@revoked h ${b.type} ${b.b64}\n@cert-authority *.hpc ${b.type} ${b.b64}`);
    const pinned = pinnedKeys(entries, 'h', 22);
    expect(verifyHostKey(pinned, a.blob)).toBe('ok');
    expect(verifyHostKey(pinned, c.blob)).toBe('ok');
    expect(verifyHostKey(pinned, b.blob)).toBe('revoked');
    expect(hostKeyAlgorithms(pinned)).toEqual(['ssh-ed25519', 'ecdsa-sha2-nistp256']);
  });

  it('offers RSA SHA-2 signatures for a pinned ssh-rsa key', () => {
    const rsa = ssh2.utils.generateKeyPairSync('rsa', { bits: 2048 }).public.split(' ');
    const pinned = pinnedKeys(parseKnownHosts(`h ${rsa[0]} ${rsa[1]}`), 'h', 22);
    expect(hostKeyAlgorithms(pinned)).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
  });

  it('skips malformed lines instead of failing the whole file', () => {
    const entries = parseKnownHosts(`garbage\nh ssh-ed25519 !!!notbase64\n@weird h ${a.type} ${a.b64}\nh ${a.type} ${a.b64}`);
    expect(entries).toHaveLength(1);
  });

  it('prints fingerprints the way ssh-keygen -l does', () => {
    expect(keyTypeOf(a.blob)).toBe('ssh-ed25519');
    expect(fingerprint(a.blob)).toMatch(/^ssh-ed25519 SHA256:[A-Za-z0-9+/]{43}$/);
  });
});
