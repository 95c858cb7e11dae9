// Atomic writes across processes, as on the NFS mount where a worker rewrites a file another
// process (the endpoint, a second worker) is reading: every read must be one whole version.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsArtifactStore } from '../../adapters/artifacts/fs-store';

const storeModule = fileURLToPath(new URL('../../adapters/artifacts/fs-store.ts', import.meta.url));
const WRITERS = 4;
const ROUNDS = 5;
const SIZE = 4 << 20;

// Writer i fills the file with byte i+1, so each version is recognisable from its hash.
const contentOf = (writer: number) => Buffer.alloc(SIZE, writer + 1);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('FsArtifactStore across processes', () => {
  let base: string;
  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'mlc-artifacts-mp-'));
  });
  afterAll(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it('never lets a reader see a mix of concurrent writers', async () => {
    const root = join(base, 'root');
    const child = join(base, 'writer.mts');
    await writeFile(
      child,
      `import { FsArtifactStore } from ${JSON.stringify(storeModule)};
       const [root, writer] = process.argv.slice(2);
       const store = new FsArtifactStore(root);
       for (let i = 0; i < ${ROUNDS}; i++) await store.put('runs/r/model.onnx', Buffer.alloc(${SIZE}, Number(writer) + 1));`,
    );
    const store = new FsArtifactStore(root);
    await store.put('runs/r/model.onnx', contentOf(0));
    const known = new Set(Array.from({ length: WRITERS }, (_, i) => sha(contentOf(i))));

    const writers = Array.from(
      { length: WRITERS },
      (_, i) =>
        new Promise<number | null>((resolve, reject) => {
          const p = spawn(process.execPath, ['--import', 'tsx', child, root, String(i)], { stdio: ['ignore', 'ignore', 'inherit'] });
          p.on('error', reject);
          p.on('exit', resolve);
        }),
    );
    let running = true;
    const done = Promise.all(writers).finally(() => (running = false));
    let reads = 0;
    const torn: number[] = [];
    while (running) {
      const got = await store.get('runs/r/model.onnx');
      if (!known.has(sha(got))) torn.push(got.length);
      reads++;
    }
    expect(await done).toEqual(Array(WRITERS).fill(0));
    expect(torn).toEqual([]);
    expect(reads).toBeGreaterThan(0);
    expect(known.has(await store.sha256('runs/r/model.onnx'))).toBe(true);
    expect(await readdir(join(root, 'runs/r'))).toEqual(['model.onnx']); // no temp left behind
  });
});
