// Everything that reaches a remote shell goes through here. POSIX single quotes make every
// byte literal except the quote itself, which is closed, escaped and reopened: '\''.
// No other quoting style is used, so there is one rule to audit.

/** Quote one word for a POSIX shell. The result is always a single literal argument. */
export function shellQuote(value: string): string {
  if (value.includes('\0')) throw new Error('a shell argument cannot contain a NUL byte');
  if (value !== '' && /^[A-Za-z0-9_@+:,./-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Quote every element of argv and join them with spaces. */
export function shellCommand(argv: readonly string[]): string {
  if (argv.length === 0) throw new Error('shellCommand needs at least one word');
  return argv.map(shellQuote).join(' ');
}
