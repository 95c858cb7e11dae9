import { describe, expect, it } from 'vitest';
import { approvedVersions, type DecisionView } from './lifecycle';
import { summarizeHistory } from './history-summary';

const at = '2026-11-29T00:00:00.000Z';
const approval = (version: number): DecisionView => ({
  kind: 'audit',
  outcome: 'approved',
  actor: 'alice',
  reason: 'ok',
  version,
  sha256: `sha-${version}`,
  at,
});
const refusal = (n: number): DecisionView => ({ kind: 'rollback', outcome: 'refused', actor: 'mallory', reason: `try ${n}`, version: 1, at });

describe('summarizeHistory', () => {
  it('keeps every approval and only the most recent other decisions, in order', () => {
    const decisions = [approval(1), ...Array.from({ length: 30 }, (_, i) => refusal(i)), approval(2), refusal(30)];
    const summary = summarizeHistory(decisions, 5);
    expect(summary.map((d) => d.reason)).toEqual(['ok', 'try 27', 'try 28', 'try 29', 'ok', 'try 30']);
    expect([...approvedVersions(summary)]).toEqual([...approvedVersions(decisions)]);
  });

  it('leaves a short history as it is', () => {
    const decisions = [approval(1), refusal(0)];
    expect(summarizeHistory(decisions)).toEqual(decisions);
  });
});
