import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseSacct, parseScontrol, parseSqueue } from './parse';
import type { JobRecord } from './parse';
import { aggregate, belongsTo, jobStatus } from './status';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('jobStatus', () => {
  const squeue = parseSqueue(fixture('squeue-all.txt'));

  it("turns a failed job into phase, exit code and a hint with SLURM's reason", () => {
    expect(jobStatus('33', squeue)).toEqual({
      jobId: '33',
      state: 'FAILED',
      phase: 'failed',
      exitCode: 3,
      retryable: false,
      elapsedSeconds: 0,
      reason: 'train.py exited with code 3: read the log tail for the error (SLURM: NonZeroExitCode)',
    });
  });

  it("keeps SLURM's reason for queued jobs, and the restart count", () => {
    expect(jobStatus('36', squeue)).toMatchObject({ state: 'PENDING', phase: 'queued', reason: 'BeginTime', restarts: 1 });
    expect(jobStatus('40', squeue)).toMatchObject({ state: 'RUNNING', phase: 'running', elapsedSeconds: 29 });
    expect(jobStatus('40', squeue)).not.toHaveProperty('exitCode');
  });

  it('is undefined for a job no record mentions', () => {
    expect(jobStatus('999', squeue)).toBeUndefined();
  });

  it('sums an array: succeeded with 1 of 4 trials failed, each trial in tasks', () => {
    const s = jobStatus('37', squeue)!;
    expect(s).toMatchObject({ jobId: '37', state: 'COMPLETED', phase: 'succeeded' });
    expect(s.reason).toMatch(/4 tasks: 3 succeeded, 1 failed.*failed trials: 2 \(FAILED\)/);
    expect(Object.keys(s.tasks!)).toEqual(['0', '1', '2', '3']);
    expect(s.tasks![2]).toMatchObject({ jobId: '37_2', phase: 'failed', exitCode: 1 });
  });

  it('follows one array task by its id, or by its raw id', () => {
    expect(jobStatus('37_2', squeue)).toMatchObject({ jobId: '37_2', state: 'FAILED' });
    expect(jobStatus('41', squeue)).toMatchObject({ jobId: '41', state: 'FAILED' });
    expect(jobStatus('37', squeue)!.tasks).toBeDefined();
  });

  it('expands tasks not yet started from a range record (scontrol, sacct)', () => {
    const s = jobStatus('42', parseScontrol(fixture('scontrol-array-pending.txt')))!;
    expect(s).toMatchObject({ state: 'PENDING', phase: 'queued' });
    expect(Object.keys(s.tasks!)).toEqual(['0', '1', '2', '3', '4']);
    const mixed = jobStatus('1236', parseSacct(fixture('sacct-handwritten.txt')))!;
    expect(mixed).toMatchObject({ phase: 'queued', reason: '4 tasks: 1 succeeded, 1 failed, 0 running, 2 queued' });
  });

  it('fails an array only when every trial failed; retryable only if all were', () => {
    const t = (state: string, retryable: boolean) => ({ jobId: 'x', state, phase: 'failed' as const, retryable });
    expect(aggregate('9', { 0: t('NODE_FAIL', true), 1: t('NODE_FAIL', true), 2: t('FAILED', false) })).toMatchObject({
      phase: 'failed',
      state: 'NODE_FAIL',
      retryable: false,
    });
    expect(aggregate('9', { 0: t('PREEMPTED', true), 1: t('NODE_FAIL', true) })).toMatchObject({ phase: 'failed', retryable: true });
  });

  it("matches records to tracked ids without confusing a task's raw id with the array", () => {
    const task: JobRecord = { id: '37_3', rawJobId: '37', arrayJobId: '37', arrayTaskId: '3', state: 'COMPLETED' };
    expect(belongsTo('37', task)).toBe(true);
    expect(belongsTo('37_3', task)).toBe(true);
    expect(belongsTo('37_2', task)).toBe(false);
    expect(belongsTo('3', task)).toBe(false);
  });
});
