// Model aliases: what a name may be, and which names the system keeps for itself. Shared by the
// registry (which enforces it) and the CLI (which refuses early, with the same words).

/** The alias that always names the deployed version; only a deployment or rollback moves it. */
export const CHAMPION = 'champion';
/** The alias evaluation points at the newest evaluated version. */
export const CHALLENGER = 'challenger';

// Starts with a letter, so an alias can never be mistaken for a version number.
const ALIAS_NAME = /^[a-z][a-z0-9_-]{0,39}$/;

/** Why `alias` cannot be set by hand, or null when it can. */
export function aliasRefusal(alias: string): string | null {
  if (alias === CHAMPION) {
    return `the alias "${CHAMPION}" always names the deployed version, so only a deployment moves it: use mlc deploy, or mlc rollback --to <version>`;
  }
  if (!ALIAS_NAME.test(alias)) {
    return `"${alias}" is not a usable alias name: use 1–40 lowercase letters, digits, "-" or "_", starting with a letter (e.g. challenger, staging, golden-2026)`;
  }
  return null;
}

/** True when a string names an alias rather than a version number. */
export const looksLikeAlias = (s: string) => ALIAS_NAME.test(s);
