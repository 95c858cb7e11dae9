import { describe, expect, it } from 'vitest';
import { clusterProfileSchema } from '../../domain/spec';
import type { SlurmClusterConfig } from '../../temporal.config';
import { InvalidJobRequestError, SlurmCommandError } from './errors';
import { SlurmExecutor } from './executor';
import { FakeCluster } from '../../test/fakes/fake-cluster';
import type { TrainingJobRequest } from './port';
import type { ExecResult } from './ssh';

const config: SlurmClusterConfig = {
  executor: 'slurm',
  host: 'login.hpc',
  port: 22,
  username: 'mlc',
  privateKeyPath: '/keys/id',
  knownHostsPath: '/keys/known_hosts',
  codeDir: '/home/mlc/code',
  artifactsRoot: '/nfs/mlc',
  python: '/home/mlc/venv/bin/python',
  pollIntervalMs: 1000,
};
const request = (key = 'wf-g1-a1'): TrainingJobRequest => ({
  key,
  runDir: `models/m/runs/${key}`,
  dataDir: 'datasets/d1',
  configFile: `models/m/runs/${key}/config.json`,
  profile: clusterProfileSchema.parse({ partition: 'mi100', gres: 'gpu:mi100:1' }),
});
const setup = () => {
  const cluster = new FakeCluster();
  return { cluster, executor: new SlurmExecutor(config, { runner: cluster }) };
};
const sbatchCalls = (c: FakeCluster) => c.log.filter((l) => l.includes('sbatch --parsable')).length;

describe('SlurmExecutor.submit', () => {
  it('checks for an earlier job, then pipes the rendered script to sbatch', async () => {
    const { cluster, executor } = setup();
    await expect(executor.submit(request())).resolves.toEqual({ jobId: '100', reused: false });
    expect(cluster.log[0]).toMatch(/^squeue .*'--user=mlc' '--name=mlc-wf-g1-a1'/);
    expect(cluster.log[1]).toBe('cat -- /nfs/mlc/models/m/runs/wf-g1-a1/slurm-job-id.submitted');
    expect(cluster.log[2]).toBe('cat -- /nfs/mlc/models/m/runs/wf-g1-a1/slurm-job-id');
    expect(cluster.log[3]).toMatch(/^sh -c .*mkdir -p -- \/nfs\/mlc\/models\/m\/runs\/wf-g1-a1; out=\$\(sbatch --parsable\)/);
    expect(cluster.lastStdin).toMatch(/^#!\/bin\/bash\n#SBATCH --job-name=mlc-wf-g1-a1\n/);
  });

  it('returns the same job for the same key: reused, and no second sbatch', async () => {
    const { cluster, executor } = setup();
    const first = await executor.submit(request());
    await expect(executor.submit(request())).resolves.toEqual({ jobId: first.jobId, reused: true });
    expect(sbatchCalls(cluster)).toBe(1);
  });

  it('submits once when the same key is submitted twice at the same time', async () => {
    const { cluster, executor } = setup();
    const [a, b] = await Promise.all([executor.submit(request()), executor.submit(request())]);
    expect(a.jobId).toBe(b.jobId);
    expect([a.reused, b.reused].sort()).toEqual([false, true]);
    expect(sbatchCalls(cluster)).toBe(1);
  });

  it('finds a job that a crashed worker submitted (by its name) and adopts it', async () => {
    const { cluster, executor } = setup();
    cluster.add({ id: '55', state: 'RUNNING', name: 'mlc-wf-g1-a1' });
    cluster.add({ id: '56', state: 'RUNNING', name: 'mlc-other' });
    await expect(executor.submit(request())).resolves.toEqual({ jobId: '55', reused: true });
    expect(sbatchCalls(cluster)).toBe(0);
  });

  it("finds a job the controller forgot through the run folder's record, if the key matches", async () => {
    const { cluster, executor } = setup();
    cluster.files.set('/nfs/mlc/models/m/runs/wf-g1-a1/slurm-job-id.submitted', '77 mlc-key=wf-g1-a1\n');
    await expect(executor.submit(request())).resolves.toEqual({ jobId: '77', reused: true });
    cluster.files.set('/nfs/mlc/models/m/runs/wf-g1-a2/slurm-job-id.submitted', '78 mlc-key=wf-g1-a1\n');
    await expect(executor.submit(request('wf-g1-a2'))).resolves.toMatchObject({ reused: false });
  });

  it("resubmits into a dead job's run folder under a key of its own: a new job, which a retry then finds", async () => {
    const { cluster, executor } = setup();
    cluster.accounting = true;
    const dir = '/nfs/mlc/models/m/runs/wf-g1-a1';
    cluster.add({ id: '55', state: 'NODE_FAIL', name: 'mlc-wf-g1-a1' });
    cluster.files.set(`${dir}/slurm-job-id.submitted`, '55 mlc-key=wf-g1-a1\n');
    cluster.files.set(`${dir}/slurm-job-id`, '55\n');
    // Under the run's own key the dead job comes back: why a resubmission needs another key.
    await expect(executor.submit(request())).resolves.toEqual({ jobId: '55', reused: true });
    const again = { ...request(), key: 'wf-g1-a1-r1' };
    await expect(executor.submit(again)).resolves.toEqual({ jobId: '100', reused: false });
    expect(cluster.lastStdin).toContain(`#SBATCH --job-name=mlc-wf-g1-a1-r1\n#SBATCH --comment=mlc-key=wf-g1-a1-r1\n#SBATCH --output=${dir}/slurm-%j.out`);
    await expect(executor.submit(again)).resolves.toEqual({ jobId: '100', reused: true });
    expect(sbatchCalls(cluster)).toBe(1);
  });

  it("trusts train.py's bare job id only when accounting confirms the name", async () => {
    const { cluster, executor } = setup();
    cluster.files.set('/nfs/mlc/models/m/runs/wf-g1-a1/slurm-job-id', '80\n');
    await expect(executor.submit(request())).resolves.toMatchObject({ reused: false }); // no accounting: unverifiable

    const withAcct = setup();
    withAcct.cluster.accounting = true;
    withAcct.cluster.add({ id: '81', state: 'COMPLETED', name: 'mlc-wf-g1-a1', gone: true });
    withAcct.cluster.files.set('/nfs/mlc/models/m/runs/wf-g1-a1/slurm-job-id', '81\n');
    await expect(withAcct.executor.submit(request())).resolves.toEqual({ jobId: '81', reused: true });
  });

  it('refuses to submit when it cannot tell whether the job exists', async () => {
    const { cluster, executor } = setup();
    const exec = cluster.exec.bind(cluster);
    cluster.exec = async (c, o) => (c.startsWith('squeue') ? { stdout: '', stderr: 'squeue: error: Unable to contact slurm controller', code: 1 } : exec(c, o));
    await expect(executor.submit(request())).rejects.toBeInstanceOf(SlurmCommandError);
    expect(sbatchCalls(cluster)).toBe(0);
  });

  it("reports sbatch's own error with what to check", async () => {
    const { cluster, executor } = setup();
    const exec = cluster.exec.bind(cluster);
    cluster.exec = async (c, o): Promise<ExecResult> =>
      c.startsWith('sh -c') ? { stdout: '', stderr: 'sbatch: error: Invalid partition name specified', code: 1 } : exec(c, o);
    const err = await executor.submit(request()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SlurmCommandError);
    expect((err as Error).message).toMatch(/Invalid partition name.*sinfo/);
  });

  it('validates before running anything', async () => {
    const { cluster, executor } = setup();
    await expect(executor.submit({ ...request(), runDir: 'runs/$(id)' })).rejects.toBeInstanceOf(InvalidJobRequestError);
    await expect(executor.submit({ ...request(), profile: { ...request().profile, qos: 'a\nb' } })).rejects.toBeInstanceOf(InvalidJobRequestError);
    expect(cluster.log).toEqual([]);
  });
});

describe('SlurmExecutor: status, cancel, logs', () => {
  it('answers status for many jobs with one squeue', async () => {
    const { cluster, executor } = setup();
    cluster.add({ id: '1', state: 'RUNNING' });
    cluster.add({ id: '2', state: 'TIMEOUT', signal: 15 });
    const m = await executor.status(['1', '2']);
    expect([...m.values()].map((s) => [s.jobId, s.phase])).toEqual([
      ['1', 'running'],
      ['2', 'failed'],
    ]);
    expect(m.get('2')?.reason).toMatch(/timeLimit/);
    expect(cluster.log).toHaveLength(1);
  });

  it('cancels with scancel; an unknown or finished job is fine; other failures are not', async () => {
    const { cluster, executor } = setup();
    await executor.cancel('12');
    expect(cluster.log).toEqual(['scancel 12']);
    cluster.exec = async () => ({ stdout: '', stderr: 'scancel: error: Kill job error on job id 9: Invalid job id specified', code: 1 });
    await expect(executor.cancel('9')).resolves.toBeUndefined();
    cluster.exec = async () => ({ stdout: '', stderr: 'scancel: error: Unable to contact slurm controller', code: 1 });
    await expect(executor.cancel('9')).rejects.toBeInstanceOf(SlurmCommandError);
  });

  it('tails the job\'s log, or every task\'s log of an array, and returns "" when there is none', async () => {
    const { cluster, executor } = setup();
    let sent = '';
    cluster.exec = async (c) => {
      sent = c;
      return { stdout: 'line\n', stderr: '', code: 0 };
    };
    await expect(executor.logTail('models/m/runs/k', '42', 20)).resolves.toBe('line\n');
    expect(sent).toBe(`sh -c 'cd /nfs/mlc/models/m/runs/k && if [ -f slurm-42.out ]; then tail -n 20 -- slurm-42.out; else tail -n 20 -- slurm-42_*.out; fi'`);
    cluster.exec = async () => ({ stdout: '', stderr: "tail: cannot open 'slurm-42_*.out' for reading: No such file or directory", code: 1 });
    await expect(executor.logTail('models/m/runs/k', '42')).resolves.toBe('');
  });

  it('refuses ids that are not SLURM ids before running anything', async () => {
    const { cluster, executor } = setup();
    await expect(executor.waitFor('local-123')).rejects.toBeInstanceOf(InvalidJobRequestError);
    await expect(executor.cancel('1; rm -rf /')).rejects.toBeInstanceOf(InvalidJobRequestError);
    await expect(executor.logTail('../x', '1')).rejects.toBeInstanceOf(InvalidJobRequestError);
    expect(cluster.log).toEqual([]);
  });
});
