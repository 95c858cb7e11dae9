// Fixtures under fixtures/ are real outputs of SLURM 22.05 on the dev cluster (capture.sh
// re-creates them), except sacct-handwritten.txt: the dev cluster has no accounting database,
// so that one follows sacct's documented --parsable2 format (steps, arrays, "CANCELLED by").
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  expandArrayRange,
  isAccountingDisabledError,
  isInvalidJobIdError,
  normalizeState,
  parseElapsed,
  parseExitSignal,
  parseSacct,
  parseScontrol,
  parseScontrolLine,
  parseSqueue,
  sacctCommand,
  scontrolCommand,
  squeueCommand,
} from './parse';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('squeue', () => {
  const records = parseSqueue(fixture('squeue-all.txt'));
  const byName = (n: string) => records.filter((r) => r.name === n);

  it('reads every line of a real --states=all --array listing', () => {
    expect(records).toHaveLength(11);
    expect(byName('fx-ok')[0]).toEqual({
      id: '32',
      rawJobId: '32',
      state: 'COMPLETED',
      exitCode: 0,
      signal: 0,
      elapsedSeconds: 2,
      restarts: 0,
      reason: 'None',
      comment: 'mlc-key=fx-ok',
      name: 'fx-ok',
    });
  });

  it('decodes the raw wait status into exit code and signal', () => {
    expect(byName('fx-fail')[0]).toMatchObject({ state: 'FAILED', exitCode: 3, signal: 0, reason: 'NonZeroExitCode' });
    expect(byName('fx-oom')[0]).toMatchObject({ state: 'FAILED', exitCode: 0, signal: 9 });
    expect(byName('fx-timeout')[0]).toMatchObject({ state: 'TIMEOUT', signal: 15, elapsedSeconds: 78, reason: 'TimeLimit' });
    expect(byName('fx-cancel')[0]).toMatchObject({ state: 'CANCELLED', signal: 15 });
  });

  it('shows a requeued job as PENDING with its restart count', () => {
    expect(byName('fx-requeue')[0]).toMatchObject({ state: 'PENDING', restarts: 1, reason: 'BeginTime' });
  });

  it('gives array tasks their array id, task index and own raw id', () => {
    const tasks = byName('fx-array').map((r) => [r.id, r.rawJobId, r.arrayJobId, r.arrayTaskId, r.state]);
    expect(tasks).toEqual(
      expect.arrayContaining([
        ['37_2', '41', '37', '2', 'FAILED'],
        ['37_3', '37', '37', '3', 'COMPLETED'],
      ]),
    );
  });

  it('lists each pending task of an array on its own line', () => {
    const pending = parseSqueue(fixture('squeue-array-pending.txt'));
    expect(pending.map((r) => r.arrayTaskId)).toEqual(['0', '1', '2', '3', '4']);
    expect(pending.every((r) => r.state === 'PENDING' && r.reason === 'JobHeldUser')).toBe(true);
  });

  it('keeps a name containing the delimiter and skips short or empty lines', () => {
    const r = parseSqueue('1|1|1|N/A|RUNNING|0|1:02:03|0|None|(null)|odd|name|\n\ngarbage\n');
    expect(r).toEqual([
      { id: '1', rawJobId: '1', state: 'RUNNING', exitCode: 0, signal: 0, elapsedSeconds: 3723, restarts: 0, reason: 'None', name: 'odd|name' },
    ]);
  });

  it('recognises "Invalid job id" from squeue -j with one unknown id', () => {
    expect(isInvalidJobIdError(fixture('squeue-invalid.stderr'))).toBe(true);
    expect(isInvalidJobIdError('squeue: error: Unable to contact slurm controller')).toBe(false);
  });

  it('builds one quoted command for many ids, or for a name', () => {
    expect(squeueCommand({ jobIds: ['1', '2', '3'] })).toMatch(/^squeue --noheader --array '--states=all' '--jobs=1,2,3' '--Format=JobArrayID:\|,/);
    expect(squeueCommand({ name: "mlc-a'b", user: 'mlc' })).toContain(`'--user=mlc' '--name=mlc-a'\\''b'`);
  });
});

describe('sacct', () => {
  const records = parseSacct(fixture('sacct-handwritten.txt'));
  const get = (id: string) => records.find((r) => r.id === id);

  it('drops job steps and keeps one record per job', () => {
    expect(records.map((r) => r.id)).toEqual(['1234', '1235', '1236_0', '1236_1', '1236_[2-3%2]', '1237', '1238', '1239', '1240']);
  });

  it('normalises "CANCELLED by 1000" and reads exit codes and elapsed times', () => {
    expect(get('1235')).toMatchObject({ state: 'CANCELLED', exitCode: 0, signal: 0, elapsedSeconds: 41 });
    expect(get('1237')).toMatchObject({ state: 'TIMEOUT', elapsedSeconds: 86_412 });
    expect(get('1238')).toMatchObject({ state: 'OUT_OF_MEMORY', signal: 125 });
  });

  it('reads array tasks and pending task ranges', () => {
    expect(get('1236_1')).toMatchObject({ arrayJobId: '1236', arrayTaskId: '1', state: 'FAILED', exitCode: 1 });
    expect(get('1236_[2-3%2]')).toMatchObject({ arrayJobId: '1236', arrayTaskId: '2-3%2', state: 'PENDING' });
  });

  it('keeps the latest line of a requeued job listed twice', () => {
    expect(get('1240')?.state).toBe('RUNNING');
  });

  it('recognises a cluster without accounting', () => {
    expect(isAccountingDisabledError(fixture('sacct-disabled.stderr'))).toBe(true);
    expect(sacctCommand(['1', '2_3'])).toBe(`sacct --noheader --parsable2 '--jobs=1,2_3' '--format=JobID,State,ExitCode,Elapsed,JobName'`);
  });
});

describe('scontrol show job -o', () => {
  it('splits key=value pairs whose values hold "=" and odd keys', () => {
    const f = parseScontrolLine(fixture('scontrol-ok.txt').trim());
    expect(f).toMatchObject({
      JobName: 'fx-ok',
      JobState: 'COMPLETED',
      ExitCode: '0:0',
      'AllocNode:Sid': expect.any(String),
      'CPUs/Task': '1',
      TRES: 'cpu=1,mem=50M,node=1,billing=1',
      Comment: 'mlc-key=fx-ok',
    });
  });

  it('reads state, exit code, reason, run time and restarts', () => {
    expect(parseScontrol(fixture('scontrol-fail.txt'))[0]).toMatchObject({
      state: 'FAILED',
      exitCode: 3,
      signal: 0,
      reason: 'NonZeroExitCode',
      name: 'fx-fail',
    });
    expect(parseScontrol(fixture('scontrol-timeout.txt'))[0]).toMatchObject({ state: 'TIMEOUT', exitCode: 0, signal: 15, reason: 'TimeLimit' });
    expect(parseScontrol(fixture('scontrol-oom.txt'))[0]).toMatchObject({ state: 'FAILED', signal: 9, reason: 'JobLaunchFailure' });
    expect(parseScontrol(fixture('scontrol-cancel.txt'))[0]).toMatchObject({ state: 'CANCELLED', signal: 15 });
    expect(parseScontrol(fixture('scontrol-requeue.txt'))[0]).toMatchObject({
      state: 'PENDING',
      restarts: 1,
      reason: 'BeginTime',
      comment: 'mlc-key=fx-requeue',
    });
  });

  it('reads array tasks, and the master record of tasks not started yet', () => {
    const tasks = parseScontrol(fixture('scontrol-array.txt'));
    expect(tasks.map((t) => t.id).sort()).toEqual(['37_0', '37_1', '37_2', '37_3']);
    expect(tasks.find((t) => t.id === '37_2')).toMatchObject({ rawJobId: '41', arrayJobId: '37', state: 'FAILED', exitCode: 1 });
    expect(parseScontrol(fixture('scontrol-array-pending.txt'))[0]).toMatchObject({ id: '42_[0-4%2]', arrayTaskId: '0-4%2', state: 'PENDING' });
  });

  it('ignores error lines and takes one id per call', () => {
    expect(parseScontrol(fixture('scontrol-invalid.stderr'))).toEqual([]);
    expect(scontrolCommand('12')).toBe('scontrol show job -o 12');
  });
});

describe('small formats', () => {
  it.each([
    ['0:05', 5],
    ['12:34', 754],
    ['1:02:03', 3723],
    ['00:00:00', 0],
    ['2-03:04:05', 183_845],
    ['17', 17],
    ['01:02.345', 62],
    ['INVALID', undefined],
    ['UNLIMITED', undefined],
    ['', undefined],
    ['1-02', undefined],
  ])('elapsed %j → %j', (raw, seconds) => expect(parseElapsed(raw)).toBe(seconds));

  it.each([
    ['CANCELLED by 0', 'CANCELLED'],
    ['completed', 'COMPLETED'],
    ['PD', 'PENDING'],
    ['CG', 'COMPLETING'],
    ['OOM', 'OUT_OF_MEMORY'],
    ['RUNNING+', 'RUNNING'],
    ['TO', 'TIMEOUT'],
    ['WEIRD_NEW', 'WEIRD_NEW'],
  ])('state %j → %j', (raw, state) => expect(normalizeState(raw)).toBe(state));

  it('reads exit:signal pairs', () => {
    expect(parseExitSignal('3:0')).toEqual({ exitCode: 3, signal: 0 });
    expect(parseExitSignal('0:15')).toEqual({ exitCode: 0, signal: 15 });
    expect(parseExitSignal('N/A')).toEqual({});
  });

  it('expands array ranges with throttles and steps', () => {
    expect(expandArrayRange('2-4%2')).toEqual([2, 3, 4]);
    expect(expandArrayRange('1,3,7-8')).toEqual([1, 3, 7, 8]);
    expect(expandArrayRange('0-10:5')).toEqual([0, 5, 10]);
  });
});
