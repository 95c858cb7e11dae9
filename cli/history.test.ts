// mlc history reads whatever registry it is given: PostgreSQL directly (the path run in
// test/e2e/separate-processes.test.ts), or the embedded one through a worker's trackingRequest
// (activities/tracking.test.ts answers listDecisions; cli/registry-access.test.ts the client half).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openMemoryRegistry } from '../adapters/db/memory';
import { formatDecision, historyCommand, historyRow } from './history';

const decision = {
  model: 'm',
  version: 2,
  kind: 'audit' as const,
  outcome: 'approved' as const,
  actor: 'alice',
  reason: 'gates met',
  artifactSha256: 'ab'.repeat(32),
  workflowId: 'mlc-m',
  decidedAt: '2026-01-02T03:04:05.000Z',
  decisionKey: 'k',
};

describe('mlc history', () => {
  afterEach(() => vi.restoreAllMocks());

  it("prints a model's decisions oldest first, as lines or JSON, and says when there are none", async () => {
    const registry = await openMemoryRegistry();
    try {
      await registry.recordDecision(decision);
      await registry.recordDecision({ ...decision, kind: 'deploy', actor: 'bob', reason: 'ship it', decidedAt: '2026-01-02T04:00:00.000Z', decisionKey: 'k2' });
      const printed: string[] = [];
      vi.spyOn(console, 'log').mockImplementation((line: string) => void printed.push(line));
      await historyCommand(registry, 'm', {});
      await historyCommand(registry, 'm', { json: true });
      await historyCommand(registry, 'other', {});
      expect(printed[0]!.split('\n')).toEqual([
        '2026-01-02T03:04:05.000Z  audit    approved  v2   by alice: gates met',
        '2026-01-02T04:00:00.000Z  deploy   approved  v2   by bob: ship it',
      ]);
      expect((JSON.parse(printed[1]!) as { actor: string }[]).map((d) => d.actor)).toEqual(['alice', 'bob']);
      expect(printed[2]).toBe('no decisions recorded for other (the first comes with its first audit)');
    } finally {
      await registry.close();
    }
  });

  it('prints who, when, what, outcome, version and why', () => {
    expect(formatDecision(decision)).toBe('2026-01-02T03:04:05.000Z  audit    approved  v2   by alice: gates met');
    expect(formatDecision({ ...decision, version: null, kind: 'retrain', outcome: 'requested' })).toContain('retrain  requested v—');
    expect(historyRow(decision)).toEqual({
      at: decision.decidedAt,
      actor: 'alice',
      kind: 'audit',
      outcome: 'approved',
      reason: 'gates met',
      version: 2,
      artifactSha256: decision.artifactSha256,
      workflowId: 'mlc-m',
    });
  });
});
