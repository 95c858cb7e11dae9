import { describe, expect, it } from 'vitest';
import { stateInfo } from './states';

describe('stateInfo', () => {
  it.each(['PENDING', 'CONFIGURING', 'REQUEUED', 'REQUEUE_HOLD', 'REQUEUE_FED', 'SUSPENDED', 'RESV_DEL_HOLD'])('%s is queued', (s) => {
    expect(stateInfo(s)).toEqual({ phase: 'queued', retryable: false });
  });
  it.each(['RUNNING', 'COMPLETING', 'STAGE_OUT', 'SIGNALING', 'RESIZING'])('%s is running', (s) => {
    expect(stateInfo(s)).toEqual({ phase: 'running', retryable: false });
  });
  it('COMPLETED is success', () => expect(stateInfo('COMPLETED')).toEqual({ phase: 'succeeded', retryable: false }));

  it.each([
    ['NODE_FAIL', true, /node failed.*same run folder.*resumes from its last checkpoint/],
    ['BOOT_FAIL', true, /boot.*maxInfraRetries/],
    ['PREEMPTED', true, /preempted.*same run folder.*resumes from its last checkpoint/],
    ['OUT_OF_MEMORY', false, /batchSize.*profile\.memory/],
    ['TIMEOUT', false, /timeLimit.*checkpointSignalSeconds/],
    ['DEADLINE', false, /deadline/],
    ['CANCELLED', false, /cancelled/],
    ['SPECIAL_EXIT', false, /scontrol release/],
    ['REVOKED', false, /federated/],
    ['UNKNOWN', false, /MinJobAge/],
  ])('%s fails (retryable: %s) with a hint', (s, retryable, hint) => {
    const info = stateInfo(s);
    expect(info.phase).toBe('failed');
    expect(info.retryable).toBe(retryable);
    expect(info.hint).toMatch(hint);
  });

  it('FAILED says what the exit code or signal suggests', () => {
    expect(stateInfo('FAILED', { exitCode: 3, signal: 0 }).hint).toMatch(/code 3.*log tail/);
    expect(stateInfo('FAILED', { exitCode: 0, signal: 9 }).hint).toMatch(/memory.*profile\.memory/);
    expect(stateInfo('FAILED', { signal: 6 }).hint).toMatch(/signal 6/);
  });

  it("an unknown state is a failure carrying SLURM's word", () => {
    expect(stateInfo('FROBNICATED')).toMatchObject({ phase: 'failed', retryable: false, hint: expect.stringContaining('FROBNICATED') });
  });
});
