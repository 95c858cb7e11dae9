import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HostKeyMismatchError, SshConnectionError } from './errors';
import { FakeCluster } from '../../test/fakes/fake-cluster';
import type { JobStatus } from './port';
import { JobWatcher } from './watcher';

const interval = 1000;
let cluster: FakeCluster;
let watcher: JobWatcher;

beforeEach(() => {
  vi.useFakeTimers();
  cluster = new FakeCluster();
  watcher = new JobWatcher(cluster, { intervalMs: interval });
});
afterEach(() => {
  watcher.stop();
  vi.useRealTimers();
});
const rounds = (n: number) => vi.advanceTimersByTimeAsync(n * interval);

describe('JobWatcher', () => {
  it('polls N tracked jobs with ONE squeue per interval', async () => {
    for (let i = 0; i < 200; i++) cluster.add({ id: String(1000 + i), state: 'RUNNING' });
    for (let i = 0; i < 200; i++) void watcher.track(String(1000 + i)).catch(() => undefined);
    await rounds(0);
    expect(cluster.count('squeue')).toBe(1);
    await rounds(4);
    expect(cluster.count('squeue')).toBe(5);
    expect(cluster.log).toHaveLength(5);
    expect(cluster.log[0]).toContain(`--jobs=${Array.from({ length: 200 }, (_, i) => 1000 + i).join(',')}`);
    expect(watcher.counts).toEqual({ rounds: 5, squeue: 5, sacct: 0, scontrol: 0 });
  });

  it('resolves each waiter at its terminal state, reporting changes on the way, then stops polling', async () => {
    const job = cluster.add({ id: '7', state: 'PENDING', reason: 'Resources' });
    const updates: JobStatus[] = [];
    const done = watcher.track('7', { onUpdate: (s) => updates.push(s) });
    await rounds(0);
    await rounds(1); // unchanged: no update
    job.state = 'RUNNING';
    job.reason = 'None';
    await rounds(1);
    job.state = 'FAILED';
    job.exit = 3;
    job.reason = 'NonZeroExitCode';
    await rounds(1);
    await expect(done).resolves.toMatchObject({ jobId: '7', state: 'FAILED', phase: 'failed', exitCode: 3 });
    expect(updates.map((u) => u.state)).toEqual(['PENDING', 'RUNNING', 'FAILED']);
    const issued = cluster.log.length;
    await rounds(5);
    expect(cluster.log.length).toBe(issued);
    expect(watcher.size).toBe(0);
  });

  it('shares one round between waiters of the same job and of different jobs', async () => {
    cluster.add({ id: '1', state: 'COMPLETED' });
    cluster.add({ id: '2', state: 'COMPLETED' });
    const all = Promise.all([watcher.track('1'), watcher.track('1'), watcher.track('2')]);
    await rounds(0);
    expect((await all).map((s) => s.phase)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    expect(cluster.count('squeue')).toBe(1);
  });

  it('asks sacct once for jobs squeue no longer shows, when the cluster has accounting', async () => {
    cluster.accounting = true;
    cluster.add({ id: '1', state: 'RUNNING' });
    cluster.add({ id: '2', state: 'RUNNING' });
    const both = Promise.all([watcher.track('1'), watcher.track('2')]);
    await rounds(0);
    Object.assign(cluster.jobs.get('1')!, { state: 'COMPLETED', gone: true });
    Object.assign(cluster.jobs.get('2')!, { state: 'CANCELLED', signal: 15, gone: true });
    await rounds(1);
    expect((await both).map((s) => s.state)).toEqual(['COMPLETED', 'CANCELLED']);
    expect(watcher.counts).toMatchObject({ squeue: 2, sacct: 1 });
    expect(cluster.log[2]).toMatch(/^sacct .*--jobs=1,2/);
  });

  it('stops asking sacct once it says accounting is off; scontrol only for jobs that just left', async () => {
    cluster.add({ id: '1', state: 'RUNNING' });
    cluster.add({ id: '2', state: 'RUNNING' });
    const one = watcher.track('1');
    const two = watcher.track('2');
    await rounds(0);
    cluster.jobs.get('1')!.gone = true;
    await rounds(1);
    expect(watcher.accountingOff).toBe(true);
    expect(watcher.counts).toMatchObject({ squeue: 2, sacct: 1, scontrol: 1 });
    await rounds(1); // still missing: no sacct (off), no scontrol (did not just leave)
    expect(watcher.counts).toMatchObject({ squeue: 3, sacct: 1, scontrol: 1 });
    await expect(one).resolves.toMatchObject({ state: 'UNKNOWN', phase: 'failed', reason: expect.stringMatching(/MinJobAge/) });
    cluster.jobs.get('2')!.state = 'COMPLETED';
    await rounds(1);
    await expect(two).resolves.toMatchObject({ state: 'COMPLETED' });
  });

  it('treats squeue\'s "Invalid job id" for a single unknown id as "not there"', async () => {
    const p = watcher.track('424242');
    await rounds(2);
    await expect(p).resolves.toMatchObject({ state: 'UNKNOWN' });
    expect(cluster.count('squeue')).toBe(2);
  });

  it('keeps polling through a few failed rounds, then gives up with the error', async () => {
    cluster.add({ id: '1', state: 'RUNNING' });
    const p = watcher.track('1');
    p.catch(() => undefined);
    cluster.failWith = () => new SshConnectionError('h', 22, 'hint', { cause: new Error('ECONNRESET') });
    await rounds(3);
    cluster.failWith = undefined;
    cluster.jobs.get('1')!.state = 'COMPLETED';
    await rounds(1);
    await expect(p).resolves.toMatchObject({ state: 'COMPLETED' });

    cluster.add({ id: '2', state: 'RUNNING' });
    const q = watcher.track('2');
    q.catch(() => undefined);
    cluster.failWith = () => new SshConnectionError('h', 22, 'hint', { cause: new Error('ECONNREFUSED') });
    await rounds(6);
    await expect(q).rejects.toBeInstanceOf(SshConnectionError);
  });

  it('gives up at once on a host key problem', async () => {
    const p = watcher.track('1');
    p.catch(() => undefined);
    cluster.failWith = () => new HostKeyMismatchError('h', 22, ['a'], 'b', '/k');
    await rounds(0);
    await expect(p).rejects.toBeInstanceOf(HostKeyMismatchError);
  });

  it('stops tracking a job whose waiter aborted', async () => {
    cluster.add({ id: '1', state: 'RUNNING' });
    const ac = new AbortController();
    const p = watcher.track('1', { signal: ac.signal });
    await rounds(1);
    ac.abort();
    await expect(p).rejects.toThrow(/abort/i);
    expect(watcher.size).toBe(0);
    const issued = cluster.log.length;
    await rounds(3);
    expect(cluster.log.length).toBe(issued);
  });

  it('reports a requeue: RUNNING, then PENDING with a restart, then RUNNING and COMPLETED', async () => {
    const job = cluster.add({ id: '5', state: 'RUNNING' });
    const seen: string[] = [];
    const p = watcher.track('5', { onUpdate: (s) => seen.push(`${s.state}/${s.restarts ?? 0}`) });
    await rounds(0);
    Object.assign(job, { state: 'PENDING', restarts: 1, reason: 'BeginTime' });
    await rounds(1);
    Object.assign(job, { state: 'RUNNING', reason: 'None' });
    await rounds(1);
    job.state = 'COMPLETED';
    await rounds(1);
    await p;
    expect(seen).toEqual(['RUNNING/0', 'PENDING/1', 'RUNNING/1', 'COMPLETED/1']);
  });

  it('poll() answers many ids in one round, UNKNOWN for the ones nobody knows', async () => {
    cluster.add({ id: '1', state: 'RUNNING' });
    const m = await watcher.poll(['1', '2']);
    expect(m.get('1')).toMatchObject({ phase: 'running' });
    expect(m.get('2')).toMatchObject({ state: 'UNKNOWN', phase: 'failed' });
    expect(cluster.count('squeue')).toBe(1);
  });
});
