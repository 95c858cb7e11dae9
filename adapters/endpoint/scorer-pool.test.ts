import { describe, expect, it } from 'vitest';
import type { LoadScorer, Scorer } from '../scoring/port';
import { ScorerPool, type Deployment } from './scorer-pool';

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

/** A loader whose loads finish when the test says so; records which dirs were closed. */
function controlledLoader() {
  const gates = new Map<string, ReturnType<typeof deferred<void>>>();
  const closed: string[] = [];
  const loads: string[] = [];
  const load: LoadScorer = async (dir) => {
    loads.push(dir);
    const gate = gates.get(dir);
    if (gate) await gate.promise;
    const scorer: Scorer = {
      labels: ['a', 'b'],
      predict: async (t) => t.map(() => ({ label: 'a', probabilities: { a: 1, b: 0 } })),
      close: async () => void closed.push(dir),
    };
    return scorer;
  };
  return { load, gates, closed, loads };
}

const dep = (version: number): Deployment => ({ model: 'm', version, modelDir: `/models/v${version}`, sha256: `sha${version}` });

describe('ScorerPool', () => {
  it('loads once per version and shares it between concurrent requests', async () => {
    const l = controlledLoader();
    const pool = new ScorerPool(l.load);
    const [a, b] = await Promise.all([pool.acquire(dep(1)), pool.acquire(dep(1))]);
    expect(a.scorer).toBe(b.scorer);
    expect(l.loads).toEqual(['/models/v1']);
    a.release();
    b.release();
    expect(pool.loaded()).toEqual([dep(1)]);
  });

  it('swaps to a new version and closes the old one only after its last lease ends', async () => {
    const l = controlledLoader();
    const pool = new ScorerPool(l.load);
    const old = await pool.acquire(dep(1));
    const next = await pool.acquire(dep(2));
    expect(pool.loaded()).toEqual([dep(2)]);
    await new Promise((r) => setTimeout(r, 5));
    expect(l.closed).toEqual([]);
    old.release();
    old.release(); // idempotent
    await new Promise((r) => setTimeout(r, 5));
    expect(l.closed).toEqual(['/models/v1']);
    next.release();
    expect(l.closed).toEqual(['/models/v1']);
  });

  it('keeps serving the current version while a new one loads, and does not let a slower, older load win', async () => {
    const l = controlledLoader();
    l.gates.set('/models/v2', deferred());
    const pool = new ScorerPool(l.load);
    (await pool.acquire(dep(1))).release();
    const v2 = pool.acquire(dep(2));
    expect(pool.loaded()).toEqual([dep(1)]);
    const v3 = await pool.acquire(dep(3));
    expect(pool.loaded()).toEqual([dep(3)]);
    l.gates.get('/models/v2')!.resolve();
    const lease2 = await v2;
    expect(lease2.deployment.version).toBe(2); // that request still gets what it asked for
    expect(pool.loaded()).toEqual([dep(3)]);
    lease2.release();
    v3.release();
    await new Promise((r) => setTimeout(r, 5));
    expect(l.closed.sort()).toEqual(['/models/v1', '/models/v2']);
  });

  it('does not cache a failed load', async () => {
    let fail = true;
    const pool = new ScorerPool(async () => {
      if (fail) throw new Error('model.onnx not found');
      return { labels: ['a', 'b'], predict: async () => [], close: async () => {} };
    });
    await expect(pool.acquire(dep(1))).rejects.toThrow(/model.onnx/);
    fail = false;
    (await pool.acquire(dep(1))).release();
    expect(pool.loaded()).toEqual([dep(1)]);
  });

  it('retires an undeployed model: unlisted at once, closed when idle', async () => {
    const l = controlledLoader();
    const pool = new ScorerPool(l.load);
    const lease = await pool.acquire(dep(1));
    pool.retire('m');
    pool.retire('other');
    expect(pool.loaded()).toEqual([]);
    expect(l.closed).toEqual([]);
    lease.release();
    await new Promise((r) => setTimeout(r, 5));
    expect(l.closed).toEqual(['/models/v1']);
  });

  it('closes everything on close and refuses new leases', async () => {
    const l = controlledLoader();
    const pool = new ScorerPool(l.load);
    (await pool.acquire(dep(1))).release();
    await pool.close();
    await new Promise((r) => setTimeout(r, 5));
    expect(l.closed).toEqual(['/models/v1']);
    await expect(pool.acquire(dep(1))).rejects.toThrow(/shutting down/);
  });
});
