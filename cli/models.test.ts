import { describe, expect, it } from 'vitest';
import type { ModelSummary } from '../adapters/db/port';
import { formatModels } from './models';

const model = (over: Partial<ModelSummary>): ModelSummary => ({
  name: 'thai-sentiment',
  registeredAt: '2026-12-01T10:00:00.000Z',
  versions: 2,
  latestVersion: 2,
  deployedVersion: 1,
  lastDecision: { kind: 'deploy', outcome: 'approved', actor: 'bob', version: 1, decidedAt: '2026-12-01T16:41:30.123Z' },
  ...over,
});

describe('mlc models', () => {
  it('shows each model in a row: versions, latest, deployed, the last decision in words', () => {
    const out = formatModels([
      model({}),
      model({
        name: 'retired-model',
        versions: 12,
        latestVersion: 12,
        deployedVersion: null,
        lastDecision: { ...model({}).lastDecision!, kind: 'undeploy', version: 3 },
      }),
      model({ name: 'new', versions: 0, latestVersion: null, deployedVersion: null, lastDecision: null }),
    ]).split('\n');
    expect(out).toEqual([
      'model           versions  latest  deployed  last decision',
      'thai-sentiment         2  v2      v1        deploy v1 approved by bob, 2026-12-01 16:41 UTC',
      'retired-model         12  v12     —         undeploy v3 approved by bob, 2026-12-01 16:41 UTC',
      'new                    0  —       —         —',
    ]);
  });
});
