// Snapshots of approved versions through TrueNAS's JSON-RPC 2.0 WebSocket API, against a local
// TLS stand-in that enforces the methods' schemas and errors (infra/truenas-emulated). Not run
// against a real NAS here.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holdSnapshot, snapshotNameFor, takeSnapshot, type TrueNasConfig } from '../../adapters/truenas/snapshots';
import { startEmulatedTrueNas, type EmulatedTrueNas } from '../../infra/truenas-emulated/server';

let nas: EmulatedTrueNas;
let config: TrueNasConfig;

beforeAll(async () => {
  nas = await startEmulatedTrueNas({ apiKey: '1-secretkey', datasets: ['tank/mlc'] });
  const dir = await mkdtemp(path.join(tmpdir(), 'mlc-nas-'));
  await writeFile(path.join(dir, 'key'), '1-secretkey\n', { mode: 0o600 });
  await writeFile(path.join(dir, 'ca.pem'), nas.ca);
  config = { url: nas.url, dataset: 'tank/mlc', apiKeyFile: path.join(dir, 'key'), caFile: path.join(dir, 'ca.pem') };
});
afterAll(async () => {
  await nas?.close();
});

describe('TrueNAS snapshots', () => {
  it('snapshots the artifact dataset, again without error on a retry, and holds it', async () => {
    const name = snapshotNameFor('mlc-thai sentiment-g1-a1', 'ab'.repeat(32));
    expect(name).toBe('mlc-mlc-thai_sentiment-g1-a1-abababababab');
    const id = await takeSnapshot(config, name);
    expect(id).toBe(`tank/mlc@${name}`);
    expect(await takeSnapshot(config, name)).toBe(id);
    await holdSnapshot(config, id);
    expect(nas.snapshots.get(id)).toEqual({ holds: 1 });
    // Every call after the login was authenticated.
    expect(nas.calls.filter((c) => c.method !== 'auth.login_with_api_key').every((c) => c.authenticated)).toBe(true);
  });

  it('refuses plain ws, a wrong key, an unknown dataset, and a hold on a missing snapshot, each with a clear error', async () => {
    await expect(takeSnapshot({ ...config, url: config.url.replace('wss:', 'ws:') }, 'x')).rejects.toMatchObject({
      nonRetryable: true,
      message: expect.stringContaining('TLS'),
    });
    const dir = path.dirname(config.apiKeyFile);
    await writeFile(path.join(dir, 'bad'), 'wrong');
    await expect(takeSnapshot({ ...config, apiKeyFile: path.join(dir, 'bad') }, 'x')).rejects.toMatchObject({ errname: 'EACCES', nonRetryable: true });
    await expect(takeSnapshot({ ...config, dataset: 'tank/nope' }, 'x')).rejects.toMatchObject({
      errname: 'ENOENT',
      message: expect.stringContaining('tank/nope'),
    });
    await expect(holdSnapshot(config, 'tank/mlc@never')).rejects.toMatchObject({ errname: 'ENOENT' });
    await expect(takeSnapshot({ ...config, caFile: undefined }, 'x')).rejects.toThrow(/cannot reach TrueNAS|certificate/);
  });
});
