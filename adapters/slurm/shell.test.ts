import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { shellCommand, shellQuote } from './shell';

// The proof is a real shell: each quoted word must come back byte-for-byte as one argument.
function roundTrip(argv: string[]): string[] {
  const script = `for a in ${shellCommand(argv)}; do printf '%s\\0' "$a"; done`;
  const out = execFileSync('/bin/sh', ['-c', script], { encoding: 'utf8' });
  return out.split('\0').slice(0, -1);
}

const nasty = [
  `'; rm -rf / #`,
  '$(id)',
  '`id`',
  'a\nb\n',
  `it's "quoted"`,
  `'`,
  `''`,
  '',
  ' leading and trailing ',
  '$HOME ${PATH} $0 $@',
  '\\n\\t\\',
  '*.py ? [a-z]',
  '~root',
  'a;b|c&d>e<f',
  '!event',
  '%1',
  'FOO=bar',
  '--flag=va lue',
  'tab\there',
  'ünïcødé ✓',
];

describe('shellQuote', () => {
  it.each(nasty)('keeps %j literal through /bin/sh', (value) => {
    expect(roundTrip([value])).toEqual([value]);
  });

  it('keeps a whole argv intact, one argument per element', () => {
    expect(roundTrip(nasty)).toEqual(nasty);
  });

  it('leaves plain words readable and quotes the rest', () => {
    expect(shellQuote('/opt/venv/bin/python')).toBe('/opt/venv/bin/python');
    expect(shellQuote('--parsable')).toBe('--parsable');
    expect(shellQuote('')).toBe(`''`);
    expect(shellQuote('a b')).toBe(`'a b'`);
    expect(shellQuote(`it's`)).toBe(`'it'\\''s'`);
    expect(shellQuote('FOO=bar')).toBe(`'FOO=bar'`);
  });

  it('does not run command substitutions', () => {
    const marker = `/tmp/mlc-shell-test-${process.pid}-${Date.now()}`;
    execFileSync('/bin/sh', ['-c', `echo ${shellQuote(`$(touch ${marker})`)} ${shellQuote(`\`touch ${marker}\``)} >/dev/null`]);
    expect(() => execFileSync('test', ['-e', marker])).toThrow();
  });

  it('refuses NUL, which no shell argument can hold', () => {
    expect(() => shellQuote('a\0b')).toThrow(/NUL/);
  });
});

describe('shellCommand', () => {
  it('joins quoted words', () => {
    expect(shellCommand(['tail', '-n', '50', '/runs/a b/slurm-1.out'])).toBe(`tail -n 50 '/runs/a b/slurm-1.out'`);
  });
  it('needs a command', () => {
    expect(() => shellCommand([])).toThrow();
  });
});
