// mlc history on the embedded registry must refuse before touching it: opening PGlite from
// the CLI would fight the worker for the folder. The PostgreSQL path runs in
// test/e2e/separate-processes.test.ts.
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../temporal.config';
import { CliError } from './cli-error';
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
  it('refuses on embedded PGlite, says why and what to do instead, and leaves the folder alone', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'mlc-history-'));
    const config = loadConfig({ ...process.env, MLC_CONFIG: '', DATABASE_URL: '', MLC_DATA_DIR: dataDir });
    const refusal = await historyCommand('thai-sentiment', {}, config).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(CliError);
    expect((refusal as CliError).exitCode).toBe(2);
    const message = (refusal as CliError).message;
    expect(message).toContain('single-process');
    expect(message).toContain('Set DATABASE_URL');
    expect(message).toContain('mlc status thai-sentiment --json');
    expect(existsSync(path.join(dataDir, 'registry'))).toBe(false);
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
