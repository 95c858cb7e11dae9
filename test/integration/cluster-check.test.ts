// `mlc cluster check` against the real one-node SLURM cluster and the local executor: the
// healthy configurations pass every check, and each broken setting fails on its own line with
// its fix. Broken clusters are the default one with one field changed. Probe jobs are tiny
// (a few seconds each); the file takes about 30 s.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ssh2 from 'ssh2';
import { afterAll, describe, expect, it } from 'vitest';
import { checkCluster, type CheckResult, type ClusterCheckReport } from '../../adapters/slurm/cluster-check';
import { SlurmExecutor } from '../../adapters/slurm/executor';
import { clusterProfileSchema } from '../../domain/spec';
import { loadConfig, repoRoot, type ClusterConfig, type SlurmClusterConfig } from '../../temporal.config';
import { mlc as runMlc } from '../e2e/process-helpers';

const config = loadConfig();
const local = config.clusters.local as SlurmClusterConfig;
const tmp = mkdtempSync(path.join(tmpdir(), 'mlc-cluster-check-'));
// Small enough to share the 2-CPU dev node with other suites; torch's import fits in it.
const profile = (extra: object = {}) => clusterProfileSchema.parse({ partition: 'cpu', memory: '1G', ...extra });

function check(cluster: ClusterConfig, extra: { profile?: ReturnType<typeof profile>; waitMs?: number } = {}): Promise<ClusterCheckReport> {
  return checkCluster('local', cluster, { workerArtifacts: config.paths.artifacts, waitMs: 60_000, ...extra });
}
const result = (report: ClusterCheckReport, name: string): CheckResult => {
  const r = report.results.find((x) => x.check === name);
  if (!r) throw new Error(`no "${name}" line in ${JSON.stringify(report.results)}`);
  return r;
};
const statuses = (report: ClusterCheckReport) => Object.fromEntries(report.results.map((r) => [r.check, r.status]));
/** Folders under <root>/check still holding the probe job's log: none once it cleaned up. */
const leftovers = (root: string, jobId: string) =>
  readdirSync(path.join(root, 'check')).filter((d) => existsSync(path.join(root, 'check', d, `slurm-${jobId}.out`)));

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const mlc = (...args: string[]) => runMlc(process.env, ...args);

describe('cluster check on the dev cluster', () => {
  it('passes everything on the local SLURM cluster: python, torch, no GPU, nonce read back', async () => {
    const report = await check(local, { profile: profile() });
    expect(report.ok, JSON.stringify(report.results, null, 2)).toBe(true);
    expect(statuses(report)).toEqual({
      ssh: 'pass',
      slurm: 'pass',
      partition: 'pass',
      'account/qos': 'skip',
      gres: 'skip',
      artifacts: 'pass',
      job: 'pass',
      python: 'pass',
      torch: 'pass',
      gpu: 'pass',
      shared: 'pass',
    });
    expect(result(report, 'account/qos').detail).toBe('not set in the profile');
    expect(report.probe).toMatchObject({ python: expect.stringMatching(/^3\.\d+\.\d+$/), torch: expect.stringMatching(/^\d+\.\d+/), gpu: false });
    expect(result(report, 'gpu').detail).toMatch(/none visible/);
    expect(result(report, 'shared').detail).toMatch(/read back from/);
    expect(leftovers(local.artifactsRoot, report.jobId!)).toEqual([]);
  });

  it('says "not checked: accounting disabled" for a profile with account and qos', async () => {
    const report = await check(local, { profile: profile({ partition: 'nosuch', account: 'ml', qos: 'normal' }) });
    expect(result(report, 'account/qos')).toMatchObject({ status: 'skip', detail: expect.stringMatching(/^not checked: accounting disabled/) });
  });

  it('runs the subset that applies on the local executor', async () => {
    const report = await checkCluster('local-process', config.clusters['local-process']!, { workerArtifacts: config.paths.artifacts, waitMs: 60_000 });
    expect(report.ok, JSON.stringify(report.results, null, 2)).toBe(true);
    expect(statuses(report)).toEqual({ artifacts: 'pass', job: 'pass', python: 'pass', torch: 'pass', gpu: 'pass', shared: 'pass' });
    expect(report.probe?.gpu).toBe(false);
  });

  it('fails a partition that does not exist, names the real ones, and submits nothing', async () => {
    const report = await check(local, { profile: profile({ partition: 'nosuch' }) });
    expect(report.ok).toBe(false);
    expect(result(report, 'partition')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('"nosuch" does not exist'),
      fix: expect.stringContaining('one of: cpu'),
    });
    expect(result(report, 'job')).toMatchObject({ status: 'skip', detail: 'not checked: partition failed' });
    expect(report.jobId).toBeUndefined();
  });

  it('fails "not shared" when the cluster writes to another folder than the worker reads', async () => {
    const elsewhere = mkdtempSync(path.join(tmp, 'elsewhere-'));
    const report = await check({ ...local, artifactsRoot: elsewhere }, { profile: profile() });
    expect(report.ok).toBe(false);
    expect(result(report, 'job').status).toBe('pass');
    expect(result(report, 'shared')).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/^not shared: the job wrote .*elsewhere-.* but this worker reads nothing/),
      fix: expect.stringContaining('paths.artifacts'),
    });
    expect(readdirSync(path.join(elsewhere, 'check'))).toEqual([]); // the probe's folder was cleaned
  });

  it('fails an artifactsRoot the cluster cannot write', async () => {
    const file = path.join(tmp, 'a-file');
    writeFileSync(file, 'not a folder');
    const report = await check({ ...local, artifactsRoot: file });
    expect(result(report, 'artifacts')).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/cannot create .*a-file\/check.*Not a directory/),
      fix: expect.stringContaining('clusters.local.artifactsRoot'),
    });
    expect(result(report, 'job').status).toBe('skip');
  });

  it('fails "no python" for an interpreter that does not exist on the node', async () => {
    const report = await check({ ...local, python: '/nonexistent/bin/python3' }, { profile: profile() });
    expect(report.ok).toBe(false);
    expect(result(report, 'python')).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/^no python at \/nonexistent\/bin\/python3 .*exit 127/s),
      fix: expect.stringContaining('clusters.local.python'),
    });
    expect(result(report, 'torch').status).toBe('skip');
  });

  it('reports profile modules on a node without a module command', async () => {
    const report = await check(local, { profile: profile({ modules: ['rocm/5.7.1'] }) });
    expect(result(report, 'modules')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('no module command'),
      fix: expect.stringContaining('training.profile.modules'),
    });
  });

  it('cancels a probe job that does not finish in time, and says what it was waiting on', async () => {
    const report = await check(local, { profile: profile(), waitMs: 1 });
    expect(result(report, 'job')).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/^probe job \d+ was still \w+ after 1 s.*cancelled/),
      fix: expect.stringContaining('training.profile'),
    });
    const executor = new SlurmExecutor(local);
    try {
      expect(await executor.waitFor(report.jobId!)).toMatchObject({ state: 'CANCELLED' });
    } finally {
      await executor.close();
    }
  });

  it('refuses a host whose key differs from the pinned one, before running anything', async () => {
    const knownHostsPath = path.join(tmp, 'known_hosts');
    const other = ssh2.utils.generateKeyPairSync('ed25519').public.split(' ').slice(0, 2).join(' ');
    writeFileSync(knownHostsPath, `[${local.host}]:${local.port} ${other}\n`);
    const report = await check({ ...local, knownHostsPath });
    expect(result(report, 'ssh')).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/^host key mismatch: .* presented ssh-ed25519 SHA256:/),
      fix: expect.stringContaining(knownHostsPath),
    });
    expect(report.results.filter((r) => r.check !== 'ssh').every((r) => r.status === 'skip')).toBe(true);
  });

  it('mlc cluster check: ✓/✗ lines with fixes, exit 1 on a failure, --json', async () => {
    const spec = path.join(tmp, 'spec.yaml');
    const example = readFileSync(path.join(repoRoot, 'examples/thai-sentiment.yaml'), 'utf8');
    writeFileSync(spec, example.replace('partition: cpu', 'partition: nosuch').replace('../data/', `${repoRoot}/data/`));
    const bad = await mlc('cluster', 'check', 'local', '--spec', spec);
    expect(bad.code, bad.stderr).toBe(1);
    expect(bad.stdout).toMatch(
      /✓ ssh .*\n✓ slurm .*\n✗ partition +partition "nosuch" does not exist.*\n +fix: set training\.profile\.partition to one of: cpu/,
    );
    const good = await mlc('cluster', 'check', 'local-process', '--json');
    expect(good.code, good.stdout + good.stderr).toBe(0);
    expect(JSON.parse(good.stdout)).toMatchObject({ cluster: 'local-process', executor: 'local', ok: true });
    expect((await mlc('cluster', 'check', 'nope')).stderr).toMatch(/cluster "nope" is not configured \(configured: .*local/);
  });
});
