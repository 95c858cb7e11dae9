import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CodecConfig } from '../../config/schema';
import { CodecKeyError, loadKeyring, newKeyEntry, parseKeys } from './keys';
import { SecretFileError } from '../secrets/secret-file';
import { loadCodecServerToken } from './server-token';

const key = () => randomBytes(32).toString('base64');

async function codecIn(...files: string[]): Promise<{ dir: string; codec: CodecConfig }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'mlc-codec-keys-'));
  const keyFiles = files.length ? files.map((f) => path.join(dir, f)) : [path.join(dir, 'secrets/codec-keys')];
  return {
    dir,
    codec: {
      keyFiles,
      keysEnv: 'TEST_CODEC_KEYS',
      server: { host: '127.0.0.1', port: 0, tokenFile: path.join(dir, 'secrets/codec-server.token'), tokenEnv: 'TEST_CODEC_TOKEN' },
    },
  };
}

describe('parseKeys', () => {
  it('reads "<id>:<base64>" entries across lines, spaces and commas, ignoring comments', () => {
    const [a, b, c] = [key(), key(), key()];
    const keys = parseKeys(`# newest first\nk2:${a}  # rotated in May\nk1:${b}, k0:${c}\n`, 'f');
    expect(keys.map((k) => k.id)).toEqual(['k2', 'k1', 'k0']);
    expect(keys[0]!.key).toEqual(Buffer.from(a, 'base64'));
    expect(keys[0]!.key).toHaveLength(32);
  });

  it('refuses a key that is not 32 bytes of base64, naming the entry but never its text', () => {
    const short = randomBytes(16).toString('base64');
    const err = (() => {
      try {
        parseKeys(`k1:${key()}\nk2:${short}`, '/etc/mlc/keys');
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err).toBeInstanceOf(CodecKeyError);
    expect(err!.message).toContain('/etc/mlc/keys, entry 2 (key id k2)');
    expect(err!.message).toContain('openssl rand -base64 32');
    expect(err!.message).not.toContain(short);
  });

  it('refuses an entry without an id', () => {
    expect(() => parseKeys(key(), 'env X')).toThrow(/env X, entry 1: not "<key id>:<base64 key>"/);
  });

  it('new entries parse, carry the date in their id, and differ each time', () => {
    const entry = newKeyEntry(new Date('2025-03-04T10:00:00Z'));
    const [k] = parseKeys(entry, 'new');
    expect(k!.id).toMatch(/^k20250304-[0-9a-f]{6}$/);
    expect(newKeyEntry()).not.toBe(newKeyEntry());
  });
});

describe('loadKeyring', () => {
  it('on a fresh machine creates the first key file (mode 0600, folder 0700) and loads the same key every time', async () => {
    const { dir, codec } = await codecIn();
    const first = await loadKeyring(codec, {});
    const file = codec.keyFiles[0]!;
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(path.dirname(file))).mode & 0o777).toBe(0o700);
    expect(await readFile(file, 'utf8')).toContain(`${first.primary.id}:`);
    const again = await loadKeyring(codec, {});
    expect(again.primary.id).toBe(first.primary.id);
    expect(again.primary.key.equals(first.primary.key)).toBe(true);
    expect(dir).toBeTruthy();
  });

  it('processes that start together all end up with the one key written', async () => {
    const { codec } = await codecIn();
    const rings = await Promise.all(Array.from({ length: 8 }, () => loadKeyring(codec, {})));
    expect(new Set(rings.map((r) => r.primary.key.toString('hex'))).size).toBe(1);
  });

  it('keys from the environment come first and encrypt; file keys still decrypt; no file is created', async () => {
    const { codec } = await codecIn('a-keys', 'b-keys');
    await writeFile(codec.keyFiles[1]!, `old:${key()}\n`, { mode: 0o600 });
    const ring = await loadKeyring(codec, { TEST_CODEC_KEYS: `new:${key()}` });
    expect(ring.primary.id).toBe('new');
    expect([...ring.keys.keys()]).toEqual(['new', 'old']);
    expect(ring.keys.get('old')!.source).toBe(codec.keyFiles[1]);
    await expect(stat(codec.keyFiles[0]!)).rejects.toThrow(/ENOENT/);
  });

  it('refuses a key file other users can read, and one id with two different keys', async () => {
    const { codec } = await codecIn('keys');
    await writeFile(codec.keyFiles[0]!, `k1:${key()}\n`);
    await chmod(codec.keyFiles[0]!, 0o644);
    await expect(loadKeyring(codec, {})).rejects.toThrow(SecretFileError);
    await expect(loadKeyring(codec, {})).rejects.toThrow(/chmod 600/);
    await chmod(codec.keyFiles[0]!, 0o600);
    await expect(loadKeyring(codec, { TEST_CODEC_KEYS: `k1:${key()}` })).rejects.toThrow(/two different keys share the id k1/);
  });

  it('an existing key file with no key is an error, not silently replaced', async () => {
    const { codec } = await codecIn('keys');
    await writeFile(codec.keyFiles[0]!, '# nothing yet\n', { mode: 0o600 });
    await expect(loadKeyring(codec, {})).rejects.toThrow(/lists none/);
  });
});

describe('loadCodecServerToken', () => {
  it('creates a URL-safe token file once; the environment overrides it; a token unfit for a URL is refused', async () => {
    const { codec } = await codecIn();
    const token = await loadCodecServerToken(codec.server, {});
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    expect((await stat(codec.server.tokenFile)).mode & 0o777).toBe(0o600);
    expect(await loadCodecServerToken(codec.server, {})).toBe(token);
    expect(await loadCodecServerToken(codec.server, { TEST_CODEC_TOKEN: 'x'.repeat(32) })).toBe('x'.repeat(32));
    await expect(loadCodecServerToken(codec.server, { TEST_CODEC_TOKEN: 'has/slash and space 1234567890' })).rejects.toThrow(/URL-safe/);
  });
});
