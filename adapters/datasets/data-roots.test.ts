import { link, mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { confineDataPath, dataAccessFrom, DataPathRefusedError, type DataAccess } from './data-roots';
import { loadConfigWithSources } from '../../config/load';

// base/
//   root/ok.jsonl, root/out.jsonl -> ../outside.jsonl, root/key-link (hard link to the key)
//   outside.jsonl
//   dotdata/ (the worker's data dir) with secrets/, ssh/id_ed25519, artifacts/x.jsonl, inputs/in.jsonl
let base: string;
let access: DataAccess;
beforeAll(async () => {
  base = await realpath(await mkdtemp(path.join(tmpdir(), 'mlc-data-roots-')));
  for (const dir of ['root', 'dotdata/secrets', 'dotdata/ssh', 'dotdata/artifacts', 'dotdata/inputs']) await mkdir(path.join(base, dir), { recursive: true });
  for (const file of [
    'root/ok.jsonl',
    'outside.jsonl',
    'dotdata/secrets/endpoint.key',
    'dotdata/ssh/id_ed25519',
    'dotdata/artifacts/x.jsonl',
    'dotdata/inputs/in.jsonl',
  ])
    await writeFile(path.join(base, file), '{}\n');
  await symlink('../outside.jsonl', path.join(base, 'root/out.jsonl'));
  await link(path.join(base, 'dotdata/ssh/id_ed25519'), path.join(base, 'root/key-link'));
  access = {
    roots: [path.join(base, 'root')],
    secrets: [path.join(base, 'dotdata/secrets'), path.join(base, 'dotdata/ssh')],
    dataDir: path.join(base, 'dotdata'),
  };
});
afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

const refusal = (file: string, a: DataAccess = access) =>
  confineDataPath(file, a).then(
    () => {
      throw new Error(`${file} was allowed`);
    },
    (e: unknown) => e as DataPathRefusedError,
  );

describe('confineDataPath', () => {
  it('allows a file inside a root, and one that does not exist yet (its reader says it is missing)', async () => {
    expect(await confineDataPath(path.join(base, 'root/ok.jsonl'), access)).toBe(path.join(base, 'root/ok.jsonl'));
    expect(await confineDataPath(path.join(base, 'root/later/x.jsonl'), access)).toBe(path.join(base, 'root/later/x.jsonl'));
  });

  it('refuses a file outside every root, a ../ escape and a symlink leading out, naming the roots and the fix', async () => {
    for (const file of ['/etc/shadow', path.join(base, 'root/../outside.jsonl'), path.join(base, 'root/out.jsonl')]) {
      const err = await refusal(file);
      expect(err).toBeInstanceOf(DataPathRefusedError);
      expect(err.nonRetryable).toBe(true);
      expect(err.message).toContain(`data roots: ${path.join(base, 'root')}`);
      expect(err.message).toMatch(/outside every data root.*Move the data under one of them, or add a folder holding it to dataRoots/);
    }
    expect((await refusal(path.join(base, 'root/out.jsonl'))).message).toContain(`(really ${path.join(base, 'outside.jsonl')})`);
  });

  it("refuses the worker's secrets even inside a root, hard links to them included", async () => {
    const wide = { ...access, roots: [base] };
    for (const file of ['dotdata/secrets/endpoint.key', 'dotdata/ssh/id_ed25519']) {
      expect((await refusal(path.join(base, file), wide)).message).toMatch(/among the worker's secrets/);
    }
    expect((await refusal(path.join(base, 'root/key-link'))).message).toMatch(/a link to one of the worker's secrets/);
  });

  it('refuses the data dir unless a root lies within it', async () => {
    const wide = { ...access, roots: [base] };
    expect((await refusal(path.join(base, 'dotdata/artifacts/x.jsonl'), wide)).message).toMatch(/in the worker's data folder/);
    const inputs = { ...access, roots: [path.join(base, 'dotdata/inputs')] };
    expect(await confineDataPath(path.join(base, 'dotdata/inputs/in.jsonl'), inputs)).toBe(path.join(base, 'dotdata/inputs/in.jsonl'));
    expect((await refusal(path.join(base, 'dotdata/ssh/id_ed25519'), { ...access, roots: [path.join(base, 'dotdata')] })).message).toMatch(/secrets/);
  });

  it("takes the secrets from the configuration: its folder, the SSH folder, every cluster's key files", () => {
    const { config } = loadConfigWithSources('/repo', { USER: 'me', MLC_SLURM_KEY: '/keys/k', MLC_SLURM_KNOWN_HOSTS: '/keys/kh' });
    expect(dataAccessFrom(config)).toEqual({
      roots: ['/repo/data', '/repo/examples'],
      secrets: ['/repo/.data/secrets', '/repo/.data/ssh', '/keys/k', '/keys/kh'],
      dataDir: '/repo/.data',
    });
  });
});
