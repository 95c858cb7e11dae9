import { describe, expect, it } from 'vitest';
import { formatChecks, type CheckResult } from './checks';

const r = (check: string, status: CheckResult['status'], fix?: string): CheckResult => ({ check, status, detail: `${check} detail`, ...(fix && { fix }) });

describe('formatChecks', () => {
  it('aligns the checks, puts a failure’s fix and a warning’s hint under it, and ends with the verdict', () => {
    const text = formatChecks('title', [
      r('temporal', 'pass'),
      r('codec server', 'warn', 'start it'),
      r('artifacts', 'fail', 'mount it'),
      r('registry', 'skip'),
    ]);
    expect(text.split('\n')).toEqual([
      'title',
      '✓ temporal      temporal detail',
      '! codec server  codec server detail',
      '                hint: start it',
      '✗ artifacts     artifacts detail',
      '                fix: mount it',
      '– registry      registry detail',
      '1 check failed (1 warning)',
    ]);
  });

  it('counts what passed with warnings or skips as passed, and says so', () => {
    expect(
      formatChecks('t', [r('a', 'pass')])
        .split('\n')
        .at(-1),
    ).toBe('all checks passed');
    expect(
      formatChecks('t', [r('a', 'pass'), r('b', 'skip')])
        .split('\n')
        .at(-1),
    ).toBe('all checks passed (some not applicable)');
    expect(
      formatChecks('t', [r('a', 'warn', 'x'), r('b', 'warn', 'y'), r('c', 'skip')])
        .split('\n')
        .at(-1),
    ).toBe('all checks passed (2 warnings, some not applicable)');
    expect(
      formatChecks('t', [r('a', 'fail', 'x'), r('b', 'fail', 'y')])
        .split('\n')
        .at(-1),
    ).toBe('2 checks failed');
  });

  it('indents a detail of several lines under its check', () => {
    expect(
      formatChecks('t', [{ check: 'ssh', status: 'fail', detail: 'one\ntwo', fix: 'f' }])
        .split('\n')
        .slice(1, 4),
    ).toEqual(['✗ ssh  one', '       two', '       fix: f']);
  });
});
