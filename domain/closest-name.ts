/** The name `value` was probably meant to be: the same but for case, else one that starts the other ("epoch" → "epochs"). */
export function closestName(value: string, names: readonly string[]): string | undefined {
  const v = value.toLowerCase();
  return names.find((n) => n.toLowerCase() === v) ?? names.find((n) => v.startsWith(n.toLowerCase()) || n.toLowerCase().startsWith(v));
}
