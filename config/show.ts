// `mlc config show`: the effective configuration, each value with where it came from, and
// anything that could be a secret masked (a password in DATABASE_URL; a connection string
// is never a config value, only the name of the variable holding it).
import type { LoadedConfig } from './load';

export function renderConfig({ config, sources, file }: LoadedConfig): string {
  const lines = [`# configuration file: ${file ?? '(none: embedded defaults; set MLC_CONFIG to use one)'}`];
  const walk = (value: unknown, keys: string[]) => {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) walk(v, [...keys, k]);
      return;
    }
    const at = keys.join('.');
    const shown = at === 'databaseUrl' ? maskUrlPassword(String(value)) : JSON.stringify(value);
    lines.push(`${at} = ${shown}    # ${sources.get(at) ?? 'default'}`);
  };
  walk(config, []);
  return lines.join('\n');
}

export function maskUrlPassword(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '****';
    return u.toString();
  } catch {
    return '****';
  }
}
