// One line of a setup check (`mlc cluster check`, `mlc doctor`): what was checked, how it went,
// what was seen, and for a failure the fix. `warn` is for what works without it for now (the Web
// UI's codec server, an endpoint nothing is deployed to yet); `skip` for what could not be
// checked because an earlier check failed, or does not apply.
export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  check: string;
  status: CheckStatus;
  detail: string;
  fix?: string;
}

const marks: Record<CheckStatus, string> = { pass: '✓', warn: '!', fail: '✗', skip: '–' };

/** A title line, one aligned line per check (its fix below it), and a verdict line. */
export function formatChecks(title: string, results: readonly CheckResult[]): string {
  const width = Math.max(...results.map((r) => r.check.length)) + 2;
  const pad = ' '.repeat(width + 2);
  const lines = [title];
  for (const r of results) {
    lines.push(`${marks[r.status]} ${r.check.padEnd(width)}${r.detail.split('\n').join(`\n${pad}`)}`);
    if (r.fix) lines.push(`${pad}${r.status === 'fail' ? 'fix' : 'hint'}: ${r.fix}`);
  }
  const count = (status: CheckStatus) => results.filter((r) => r.status === status).length;
  const plural = (n: number, what: string) => `${n} ${what}${n > 1 ? 's' : ''}`;
  const [failed, warned] = [count('fail'), count('warn')];
  const verdict = failed ? `${plural(failed, 'check')} failed` : 'all checks passed';
  const notes = [warned && plural(warned, 'warning'), count('skip') && !failed && 'some not applicable'].filter(Boolean);
  lines.push(notes.length ? `${verdict} (${notes.join(', ')})` : verdict);
  return lines.join('\n');
}
