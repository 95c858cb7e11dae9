// JSON with object keys sorted at every level, so a value hashes the same before it is stored
// and after it comes back from jsonb (which reorders keys). Our values are strings, integers,
// booleans and null, where sorted keys are all RFC 8785 (JCS) adds over JSON.stringify.
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}
