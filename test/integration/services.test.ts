// The local services as scripts/services.sh leaves them: SLURM schedulable, sshd reachable
// only with the pinned host key, Temporal with our search attributes. npm test starts them.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, searchAttributes } from '../../temporal.config';

const dataDir = path.resolve(repoRoot, process.env.MLC_DATA_DIR ?? '.data');
const sshDir = path.join(dataDir, 'ssh');
const sshPort = process.env.MLC_SSHD_PORT ?? '2222';
const user = os.userInfo().username;
const temporalAddress = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
const env = { ...process.env, SLURM_CONF: path.join(repoRoot, 'infra/slurm/slurm.conf') };

function run(cmd: string, args: string[]): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env, timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error) throw r.error;
  return r;
}

function ssh(knownHosts: string, command: string): SpawnSyncReturns<string> {
  return run('ssh', [
    '-F',
    '/dev/null',
    '-p',
    sshPort,
    '-i',
    path.join(sshDir, 'id_ed25519'),
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    'ConnectTimeout=10',
    '-o',
    `UserKnownHostsFile=${knownHosts}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'StrictHostKeyChecking=yes',
    `${user}@127.0.0.1`,
    command,
  ]);
}

describe('local services (scripts/services.sh start)', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'mlc-services-test-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('has the SLURM node up and schedulable', () => {
    const r = run('sinfo', ['-h', '-o', '%T']);
    expect(r.status, r.stderr).toBe(0);
    // allocated too: other suites may be running jobs on the same two-core node.
    expect(r.stdout.trim()).toMatch(/^(idle|mixed|allocated)$/);
  });

  it('accepts SSH with the pinned host key, and SLURM commands work in that session', () => {
    const r = ssh(path.join(sshDir, 'known_hosts'), 'sinfo -h -o %P && command -v sbatch');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('cpu*');
    expect(r.stdout).toContain('sbatch');
  });

  it('refuses SSH when known_hosts pins a different host key', () => {
    const keyFile = path.join(tmp, 'other_host_key');
    const gen = run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyFile]);
    expect(gen.status, gen.stderr).toBe(0);
    const [type, key] = readFileSync(`${keyFile}.pub`, 'utf8').trim().split(/\s+/);
    const otherKnownHosts = path.join(tmp, 'known_hosts');
    writeFileSync(otherKnownHosts, `[127.0.0.1]:${sshPort} ${type} ${key}\n`);

    const r = ssh(otherKnownHosts, 'true');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('Host key verification failed');
  });

  it('runs Temporal with the search attributes the lifecycle upserts', () => {
    const r = run(path.join(repoRoot, '.venv/bin/temporal'), [
      'operator',
      'search-attribute',
      'list',
      '--address',
      temporalAddress,
      '--namespace',
      process.env.TEMPORAL_NAMESPACE ?? 'default',
    ]);
    expect(r.status, r.stderr).toBe(0);
    for (const name of Object.values(searchAttributes)) expect(r.stdout).toContain(name);
  });

  it('reports every service as running', () => {
    const r = run('bash', [path.join(repoRoot, 'scripts/services.sh'), 'status']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });
});

describe('search attribute names', () => {
  it('are the same in temporal.config.ts and scripts/services/temporal.sh', () => {
    const script = readFileSync(path.join(repoRoot, 'scripts/services/temporal.sh'), 'utf8');
    const line = script.match(/^SEARCH_ATTRIBUTES=\((.*)\)$/m);
    expect(line, 'SEARCH_ATTRIBUTES=(...) in scripts/services/temporal.sh').not.toBeNull();
    const registered = line![1]!
      .trim()
      .split(/\s+/)
      .map((sa) => sa.split('=')[0]);
    expect(registered.sort()).toEqual(Object.values(searchAttributes).sort());
  });
});
