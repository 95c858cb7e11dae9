// The pure parts of `mlc cluster check`: SLURM's answers read right, and each way a probe job
// fails blamed on the setting that caused it (the real cluster: test/integration/cluster-check.test.ts).
import { describe, expect, it } from 'vitest';
import { assocProblem, diagnoseFailure, gresAvailable, parsePartitions, parseProbe } from './cluster-check';
import type { JobStatus } from './port';

describe('parsePartitions', () => {
  it('reads names, the default marker and availability, once per partition', () => {
    expect(parsePartitions('cpu*|up\nmi100|up\nmi100|up\ndebug|down\n')).toEqual([
      { name: 'cpu', isDefault: true, state: 'up' },
      { name: 'mi100', isDefault: false, state: 'up' },
      { name: 'debug', isDefault: false, state: 'down' },
    ]);
  });
});

describe('assocProblem', () => {
  const assoc = 'ml|normal,long\nops|normal\n';
  it('accepts an associated account and a qos allowed with it', () => {
    expect(assocProblem(assoc, 'ml', 'long')).toBeUndefined();
    expect(assocProblem(assoc, undefined, 'normal')).toBeUndefined();
  });
  it('names the missing account or qos and what exists', () => {
    expect(assocProblem(assoc, 'research')).toBe('account "research" is not among the associations (ml, ops)');
    expect(assocProblem(assoc, 'ops', 'long')).toBe('qos "long" is not allowed with account ops (allowed: normal)');
  });
});

describe('gresAvailable', () => {
  const sinfo = 'gpu:mi100:4(S:0-1),nvme:1\n(null)\n';
  it('matches name, type and count on one node line', () => {
    expect(gresAvailable('gpu:mi100:1', sinfo)).toBe(true);
    expect(gresAvailable('gpu:4', sinfo)).toBe(true);
    expect(gresAvailable('gpu', sinfo)).toBe(true);
    expect(gresAvailable('gpu:mi100:2,nvme', sinfo)).toBe(true);
  });
  it('refuses another type, too many, or a partition without gres', () => {
    expect(gresAvailable('gpu:a100:1', sinfo)).toBe(false);
    expect(gresAvailable('gpu:mi100:8', sinfo)).toBe(false);
    expect(gresAvailable('gpu:1', '(null)\n')).toBe(false);
  });
  it('ignores socket lists with commas', () => {
    expect(gresAvailable('gpu:2', 'gpu:2(S:0,1)\n')).toBe(true);
  });
});

describe('parseProbe', () => {
  const line = {
    hostname: 'n1',
    python: '3.11.7',
    executable: '/x/python',
    loadedModules: [],
    missingModules: [],
    torch: '2.3.0+rocm5.7',
    hipVersion: '5.7',
    cudaVersion: null,
    gpu: true,
    deviceCount: 4,
    device: 'AMD Instinct MI100',
    nonceError: null,
  };
  it('takes the last MLC-PROBE line among other output', () => {
    expect(parseProbe(`module noise\nMLC-PROBE ${JSON.stringify(line)}\n`)).toMatchObject({ hostname: 'n1', gpu: true, device: 'AMD Instinct MI100' });
  });
  it('is undefined without a probe line, or with a broken one', () => {
    expect(parseProbe('Traceback ...\n')).toBeUndefined();
    expect(parseProbe('MLC-PROBE {"hostname": 1}\n')).toBeUndefined();
  });
});

describe('diagnoseFailure', () => {
  const failed = (exitCode: number): JobStatus => ({ jobId: '7', state: 'FAILED', phase: 'failed', exitCode, retryable: false });
  const cluster = { python: '/opt/env/bin/python', codeDir: '/home/u/mlc' };
  it('blames a missing interpreter on "python"', () => {
    const d = diagnoseFailure(failed(127), 'slurm_script: line 14: /opt/env/bin/python: No such file or directory\n', cluster, 'hpc', []);
    expect(d).toMatchObject({
      check: 'python',
      detail: expect.stringMatching(/^no python at \/opt\/env\/bin\/python.*exit 127/s),
      fix: expect.stringContaining('clusters.hpc.python'),
    });
  });
  it('blames a module that will not load on "modules", naming it', () => {
    const log = 'Lmod has detected the following error:  The following module(s) are unknown: "rocm/9.9"\n';
    expect(diagnoseFailure(failed(1), log, cluster, 'hpc', ['gcc/12', 'rocm/9.9'])).toMatchObject({
      check: 'modules',
      detail: expect.stringMatching(/^module load failed for rocm\/9\.9;/),
    });
  });
  it('blames a codeDir without the repository on "job"', () => {
    const d = diagnoseFailure(failed(2), "python: can't open file '/home/u/mlc/slurm/probe.py': [Errno 2] No such file or directory\n", cluster, 'hpc', []);
    expect(d).toMatchObject({ check: 'job', fix: expect.stringContaining('clusters.hpc.codeDir') });
  });
  it("falls back to the job's state and log tail", () => {
    const d = diagnoseFailure({ ...failed(1), reason: 'train.py exited with code 1' }, 'boom\n', cluster, 'hpc', []);
    expect(d).toMatchObject({ check: 'job', detail: expect.stringMatching(/probe job failed: train\.py.*\n +boom/s) });
  });
});
