import { describe, expect, it } from 'vitest';
import type { LoadScorer, LoadScorerOptions, Prediction, Scorer } from '../scoring/port';
import { scorerInstances } from './scorer-instances';

/** Fake copies that record which copy scored what, how many calls overlapped, and their options. */
function fakeCopies(failOnCopy?: number) {
  const seen = { options: [] as LoadScorerOptions[], byCopy: [] as string[][], running: 0, mostAtOnce: 0, closed: 0 };
  const load: LoadScorer = async (_dir, options = {}) => {
    const copy = seen.options.push(options) - 1;
    if (copy === failOnCopy) throw new Error(`copy ${copy} cannot load`);
    seen.byCopy[copy] = [];
    let busy = false;
    return {
      labels: ['neg', 'pos'],
      runtime: 'fake 1.0',
      async predict(texts) {
        expect(busy, `copy ${copy} got a second call while scoring`).toBe(false);
        busy = true;
        seen.mostAtOnce = Math.max(seen.mostAtOnce, ++seen.running);
        await new Promise((r) => setTimeout(r, 5));
        seen.running--;
        busy = false;
        seen.byCopy[copy]!.push(...texts);
        return texts.map((): Prediction => ({ label: 'pos', probabilities: { neg: 0, pos: 1 } }));
      },
      async close() {
        seen.closed++;
      },
    } satisfies Scorer;
  };
  return { load, seen };
}

describe('scorerInstances', () => {
  it('loads the copies on one core each, scores on idle ones side by side, never two calls on one copy', async () => {
    const { load, seen } = fakeCopies();
    const scorer = await scorerInstances(load, 3)('/model', { batchSize: 8 });
    expect(seen.options).toEqual(Array(3).fill({ intraOpThreads: 1, batchSize: 8 }));
    expect(scorer).toMatchObject({ labels: ['neg', 'pos'], runtime: 'fake 1.0, 3 instances', concurrency: 3 });
    const texts = Array.from({ length: 12 }, (_, i) => `t${i}`);
    const answers = await Promise.all(texts.map((t) => scorer.predict([t])));
    expect(answers.every((a) => a.length === 1)).toBe(true);
    expect(seen.mostAtOnce).toBe(3);
    expect(seen.byCopy.flat().sort()).toEqual([...texts].sort());
    await scorer.close();
    expect(seen.closed).toBe(3);
  });

  it('closes the copies that loaded when one cannot, and says why', async () => {
    const { load, seen } = fakeCopies(1);
    await expect(scorerInstances(load, 3)('/model')).rejects.toThrow('copy 1 cannot load');
    expect(seen.closed).toBe(2);
    expect(() => scorerInstances(load, 0)).toThrow(RangeError);
  });
});
