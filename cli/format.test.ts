import { describe, expect, it } from 'vitest';
import type { LifecycleStatus } from '../domain/lifecycle';
import { artifactLocation, formatStatus } from './format';

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
