import { describe, expect, it } from 'vitest';
import type { LifecycleStatus } from '../domain/lifecycle';
import { artifactLocation, formatDuration, formatNumber, formatStatus, formatTable, sparkline, type Lives } from './format';

const status = (training: Partial<NonNullable<LifecycleStatus['training']>>): LifecycleStatus => ({
  model: 'm',
  stage: 'training',
  generation: 1,
  attempt: 1,
  datasetHash: 'h',
  version: null,
  artifactSha256: null,
  evaluation: null,
  deployedVersion: null,
  lastDecision: null,
  decisions: [],
  error: null,
  training: {
    runKey: 'r',
    runDir: 'd',
    cluster: 'local',
    jobId: '7',
    jobState: 'RUNNING',
    jobPhase: 'running',
    startedAt: '2026-11-29T10:00:00.000Z',
    elapsedSeconds: 2,
    ...training,
  },
});

describe('formatStatus', () => {
  it('times a running job by the reader’s clock, so it stays current between state changes (after a worker restart too)', () => {
    const at = (iso: string) => formatStatus(status({}), Date.parse(iso));
    expect(at('2026-11-29T10:00:30Z')).toContain('job 7 RUNNING, 30s since submission');
    expect(at('2026-11-29T10:05:00Z')).toContain('job 7 RUNNING, 300s since submission');
  });

  it('says which version a warm-started job began from', () => {
    const ended = { jobState: 'COMPLETED', jobPhase: 'succeeded' as const, elapsedSeconds: 95 };
    expect(formatStatus(status({ ...ended, warmStartFrom: 3 }), 0)).toContain("COMPLETED, 95s elapsed, from version 3's weights");
    expect(formatStatus(status(ended), 0)).not.toContain('weights');
  });

  it('shows what the running job last reported under its line, and nothing once the stage has moved on', () => {
    const written = { phase: 'training', epoch: 2, epochs: 5, step: 100, steps: 400, updatedAt: '2026-11-29T10:00:20.000Z' };
    const progress = { progress: written, trials: [] };
    const now = Date.parse('2026-11-29T10:00:30Z');
    expect(formatStatus(status({}), now, undefined, progress)).toContain(
      'job 7 RUNNING, 30s since submission\nprogress    epoch 2/5 · step 100/400 (25%) · 10s ago',
    );
    expect(formatStatus({ ...status({}), stage: 'evaluating' }, now, undefined, progress)).not.toContain('progress');
    expect(formatStatus(status({}), now)).not.toContain('progress');
    // A search: a line per trial that has started, in trial order.
    const search = { progress: null, trials: [0, 2].map((trial) => ({ trial, progress: { ...written, step: 50 * (trial + 1) } })) };
    expect(formatStatus(status({}), now, undefined, search)).toContain(
      'progress    trial 0: epoch 2/5 · step 50/400 (12%) · 10s ago\n            trial 2: epoch 2/5 · step 150/400 (37%) · 10s ago',
    );
  });

  it('clips a monitor’s long retrain reason and says where the whole one is; a short reason stays whole', () => {
    const decision = (reason: string) => ({
      kind: 'retrain' as const,
      outcome: 'requested' as const,
      actor: 'mlc-monitor',
      reason,
      version: 1,
      at: '2026-12-01T10:04:21.612Z',
    });
    const drifted = Array.from({ length: 8 }, (_, i) => `output "p_${i}" drifted: Kolmogorov–Smirnov p 9.44e-6 is below 0.05`).join('; ');
    const last = (reason: string) =>
      formatStatus({ ...status({}), lastDecision: decision(reason) }, 0)
        .split('\n')
        .find((l) => l.startsWith('last'))!;
    const long = last(`2 consecutive windows breached: retraining; ${drifted}`);
    expect(long.length).toBeLessThan(400);
    expect(long).toMatch(
      /^last {8}retrain requested by mlc-monitor at 2026-12-01T10:04:21.612Z: 2 consecutive windows breached: retraining; output "p_0" drifted/,
    );
    expect(long).toMatch(/… \(\d+ more characters\); the whole reason: mlc history m$/);
    expect(last('first release')).toBe('last        retrain requested by mlc-monitor at 2026-12-01T10:04:21.612Z: first release');
  });

  it('says under the stage when the lifecycle has ended, and nothing while it runs', () => {
    const ended = 'was TERMINATED at 2026-12-01T10:10:01.308Z';
    expect(formatStatus(status({}), 0, undefined, null, { ended })).toContain(
      'stage       training\nended       was TERMINATED at 2026-12-01T10:10:01.308Z; nothing moves it on\n',
    );
    expect(formatStatus(status({}), 0, undefined, null, { ended: null })).not.toContain('ended');
  });

  it('says what the endpoint serves when this lifecycle has deployed nothing yet, and only then', () => {
    expect(formatStatus(status({}), 0, undefined, null, { champion: 1 })).toContain(
      '\ndeployed    —  (the endpoint serves version 1, deployed by an earlier lifecycle)',
    );
    expect(formatStatus({ ...status({}), deployedVersion: 3 }, 0, undefined, null, { champion: 3 })).toMatch(/^deployed {4}3$/m);
    expect(formatStatus(status({}), 0)).toContain('\ndeployed    —');
  });

  it("says when an ended lifecycle's version no longer serves, and only when the registry says so", () => {
    const ended = 'was COMPLETED at 2026-12-01T10:10:01.308Z';
    const stopped = { ...status({}), model: 'm', deployedVersion: 2 };
    const line = (lives: Lives) => /^deployed {4}(.*)$/m.exec(formatStatus(stopped, 0, undefined, null, lives))?.[1];
    expect(line({ ended, champion: null })).toBe('—  (version 2 no longer serves; nothing is deployed now: mlc history m)');
    expect(line({ ended, champion: 4 })).toBe('—  (version 2 no longer serves; version 4 is deployed now: mlc history m)');
    expect(line({ ended, champion: 2 })).toBe('2');
    expect(line({ ended, champion: undefined })).toBe('2'); // the registry could not be read: what the lifecycle last knew
    expect(line({ champion: null })).toBe('2'); // a running lifecycle knows what it deployed
  });

  it('shows throughputs as throughputs and scores to four places', () => {
    const evaluation = { metrics: { test_macro_f1: 0.59, texts_per_second_fp32: 4591.7742 }, gates: [], gatesPassed: true, auditPackageKey: 'k' };
    expect(formatStatus({ ...status({}), evaluation }, 0)).toContain('metrics     test_macro_f1 0.5900  texts_per_second_fp32 4591.8\n');
  });

  it('shows the cluster’s own elapsed time once the job has ended', () => {
    expect(formatStatus(status({ jobState: 'COMPLETED', jobPhase: 'succeeded', elapsedSeconds: 95 }), Date.parse('2026-11-29T12:00:00Z'))).toContain(
      'COMPLETED, 95s elapsed',
    );
  });
});

describe('artifactLocation (the audit package line of mlc status)', () => {
  const key = 'models/m/evaluations/r/audit-package.html';

  it('is a local path under a folder root, whether given as a path or a file:// URL', () => {
    expect(artifactLocation('/mnt/truenas/mlc', key)).toBe(`/mnt/truenas/mlc/${key}`);
    expect(artifactLocation('file:///mnt/truenas/mlc', key)).toBe(`/mnt/truenas/mlc/${key}`);
  });

  it('is the URI under a Blob root', () => {
    expect(artifactLocation('azblob://acct/container/mlc/', key)).toBe(`azblob://acct/container/mlc/${key}`);
  });

  it('replaces the bare key on the status line', () => {
    const s = { ...status({}), evaluation: { metrics: {}, gates: [], gatesPassed: true, auditPackageKey: key } };
    expect(formatStatus(s, 0, '/data/artifacts')).toContain(`audit pkg   /data/artifacts/${key}`);
    expect(formatStatus(s, 0)).toContain(`audit pkg   ${key}`);
  });
});

describe('tables and curves for the terminal', () => {
  it('pads columns to the widest cell, numbers to the right, Thai by the columns it takes', () => {
    // ดีมาก: five code points, four columns (the vowel ี sits above ด).
    const table = formatTable(
      ['name', 'n'],
      [
        ['ดีมาก', '7'],
        ['a', '1234'],
      ],
      [false, true],
    );
    expect(table).toBe('name     n\nดีมาก     7\na     1234');
  });

  it('draws a curve between its own minimum and maximum, averaging long series into the width', () => {
    expect(sparkline([0, 1, 2, 3, 4, 5, 6, 7])).toBe('▁▂▃▄▅▆▇█');
    expect(sparkline([5, 5, 5])).toBe('▁▁▁');
    expect(sparkline([1, Number.NaN, 3])).toBe('▁█');
    expect(sparkline([])).toBe('');
    const long = sparkline(
      Array.from({ length: 1000 }, (_, i) => i),
      20,
    );
    expect(long).toHaveLength(20);
    expect(long[0]).toBe('▁');
    expect(long[19]).toBe('█');
  });

  it('writes durations and metric values for reading', () => {
    expect([formatDuration(42.4), formatDuration(185), formatDuration(3725)]).toEqual(['42s', '3m05s', '1h02m05s']);
    expect([formatNumber(3), formatNumber(0.61234), formatNumber(0.0004), formatNumber(123.456)]).toEqual(['3', '0.6123', '4.00e-4', '123.5']);
  });
});
