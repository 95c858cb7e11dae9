import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EndpointKeyError, loadEndpointKey } from './secret';

describe('loadEndpointKey', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'mlc-secret-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('prefers MLC_ENDPOINT_KEY and writes nothing', async () => {
    const dir = join(root, 'secrets');
    expect(await loadEndpointKey(dir, { MLC_ENDPOINT_KEY: ' from-env \n' })).toBe('from-env');
    await expect(stat(dir)).rejects.toThrow();
  });

  it('creates a 32-byte hex key with mode 0600 in a 0700 folder, then reads the same key back', async () => {
    const dir = join(root, 'secrets');
    const key = await loadEndpointKey(dir, { MLC_ENDPOINT_KEY: '' });
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect((await stat(join(dir, 'endpoint.key'))).mode & 0o777).toBe(0o600);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect(await loadEndpointKey(dir, {})).toBe(key);
    expect((await readFile(join(dir, 'endpoint.key'), 'utf8')).trim()).toBe(key);
  });

  it('gives concurrent first callers the same key, never a half-written file', async () => {
    // CI once caught a caller reading the file between its creation and its write ("is empty").
    const dir = join(root, 'secrets');
    const keys = await Promise.all(Array.from({ length: 20 }, () => loadEndpointKey(dir, {})));
    expect(new Set(keys).size).toBe(1);
  });

  it('refuses a key file others can read, and an empty one', async () => {
    const path = join(root, 'endpoint.key');
    await writeFile(path, 'abc\n');
    await chmod(path, 0o644);
    await expect(loadEndpointKey(root, {})).rejects.toThrow(/chmod 600/);
    await writeFile(path, '\n');
    await chmod(path, 0o600);
    await expect(loadEndpointKey(root, {})).rejects.toThrow(EndpointKeyError);
  });
});
