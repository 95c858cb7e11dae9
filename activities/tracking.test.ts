// The one activity through which mlc reads the embedded registry: it answers the allow-listed
// methods with checked arguments, and nothing else.
import { ApplicationFailure } from '@temporalio/activity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMemoryRegistry } from '../adapters/db/memory';
import type { Registry } from '../adapters/db/port';
import { seedRun } from '../test/fakes/registry-fixtures';
import { trackingActivities } from './tracking';

describe('answerTrackingRequest', () => {
  let registry: Registry;
  let activities: ReturnType<typeof trackingActivities>;
  const answer = (request: { method: string; args: unknown[] }) => activities.answerTrackingRequest(request);
  beforeAll(async () => {
    registry = await openMemoryRegistry();
    activities = trackingActivities({ registry });
    await seedRun(registry, { params: { lr: 1 } });
  }, 120_000); // PGlite starts and migrates in seconds, far slower on a busy machine
  afterAll(() => registry.close());

  it('answers allowed reads and the alias write', async () => {
    expect(await answer({ method: 'listRuns', args: ['m'] })).toMatchObject([{ runKey: 'r1', version: 1, params: { lr: 1 } }]);
    expect(await answer({ method: 'getModelVersion', args: ['m', 1] })).toMatchObject({ runKey: 'r1', version: 1 });
    expect(await answer({ method: 'listDecisions', args: ['m'] })).toEqual(await registry.listDecisions('m'));
    const change = { model: 'm', alias: 'golden', version: 1, setBy: 'carol', reason: 'best on the golden set', changeKey: 'k1' };
    expect(await answer({ method: 'setModelAlias', args: [change] })).toEqual({ applied: true, previousVersion: null });
    expect(await answer({ method: 'listModelAliases', args: ['m'] })).toMatchObject([{ alias: 'golden', version: 1, setBy: 'carol' }]);
  });

  it('refuses methods outside the allow-list and malformed arguments, for good', async () => {
    for (const request of [
      { method: 'recordDeployment', args: [{}] },
      { method: 'close', args: [] },
      { method: 'toString', args: [] },
      { method: 'getModelVersion', args: ['m', 'one'] },
      { method: 'setModelAlias', args: [{ model: 'm', alias: 'x', version: 1 }] },
    ]) {
      const error = await answer(request).catch((e: unknown) => e);
      expect(error, request.method).toBeInstanceOf(ApplicationFailure);
      expect((error as ApplicationFailure).nonRetryable).toBe(true);
    }
    expect(await registry.listModelAliases('m')).toHaveLength(1);
  });
});
