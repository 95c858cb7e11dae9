/** The first `max` UTF-16 units of `s`, never half a surrogate pair, saying how many were left out. */
export function clipText(s: string, max: number): string {
  if (s.length <= max) return s;
  const cut = s.slice(0, /[\ud800-\udbff]/.test(s[max - 1]!) ? max - 1 : max);
  return `${cut}… (${s.length - cut.length} more characters)`;
}
