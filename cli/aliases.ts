// mlc alias: named pointers to model versions (MLflow's aliases, which replaced its stages).
// `champion` always names the deployed version and moves only with a deployment or rollback;
// evaluation points `challenger` at the newest evaluated version; any other name is the team's.
import { randomUUID } from 'node:crypto';
import type { TrackingRegistry } from '../activities/tracking';
import { aliasRefusal } from '../adapters/db/aliases';
import type { AliasEvent, ModelAlias } from '../adapters/db/port';
import { userNameSchema } from '../domain/spec';
import { CliError } from './cli-error';
import { formatTable } from './format';

export function parseVersion(text: string): number {
  if (!/^[1-9]\d*$/.test(text)) throw new CliError(`"${text}" is not a version number: give the number mlc runs shows (1, 2, …)`, 2);
  return Number(text);
}

export async function aliasSetCommand(
  registry: TrackingRegistry,
  model: string,
  alias: string,
  versionText: string,
  opts: { as: string; reason: string },
  changeKey = `cli:${randomUUID()}`,
) {
  const refusal = aliasRefusal(alias);
  if (refusal) throw new CliError(refusal, 2);
  const who = userNameSchema.safeParse(opts.as);
  if (!who.success) throw new CliError(`--as "${opts.as}": ${who.error.issues[0]?.message}`, 2);
  const version = parseVersion(versionText);
  const { applied, previousVersion } = await registry.setModelAlias({ model, alias, version, setBy: opts.as, reason: opts.reason, changeKey });
  const was = previousVersion === null ? 'new alias' : previousVersion === version ? `already v${version}` : `was v${previousVersion}`;
  console.log(applied ? `✓ ${model}@${alias} → v${version} (${was}), recorded as set by ${opts.as}` : `${model}@${alias}: this change was already recorded`);
}

export function formatAliases(model: string, aliases: ModelAlias[]): string {
  if (!aliases.length) return `no aliases for ${model} yet (evaluation sets challenger, a deployment champion; mlc alias set adds others)`;
  return formatTable(
    ['alias', 'version', 'set', 'by', 'reason'],
    aliases.map((a) => [a.alias, `v${a.version}`, a.setAt.slice(0, 19).replace('T', ' '), a.setBy, a.reason]),
  );
}

export function formatAliasHistory(events: AliasEvent[]): string {
  return formatTable(
    ['set', 'alias', 'move', 'by', 'reason'],
    events.map((e) => [
      e.setAt.slice(0, 19).replace('T', ' '),
      e.alias,
      `${e.previousVersion === null ? '—' : `v${e.previousVersion}`} → ${e.version === null ? 'removed' : `v${e.version}`}`,
      e.setBy,
      e.reason,
    ]),
  );
}

export async function aliasListCommand(registry: TrackingRegistry, model: string, opts: { json?: boolean; history?: boolean }) {
  const aliases = await registry.listModelAliases(model);
  const history = opts.history ? await registry.aliasHistory(model) : undefined;
  if (opts.json) return console.log(JSON.stringify(history ? { aliases, history } : aliases, null, 2));
  console.log(formatAliases(model, aliases));
  if (history?.length) console.log(`\nhistory\n${formatAliasHistory(history)}`);
}

/** A version named by number or by alias ("3", "champion"), as `mlc evaluate --version` takes it. */
export async function resolveVersion(registry: TrackingRegistry, model: string, ref: string): Promise<number> {
  if (/^\d+$/.test(ref)) return parseVersion(ref);
  const aliases = await registry.listModelAliases(model);
  const found = aliases.find((a) => a.alias === ref);
  if (found) return found.version;
  const known = aliases.map((a) => `${a.alias} (v${a.version})`).join(', ');
  throw new CliError(`${model} has no alias "${ref}"${known ? `; its aliases: ${known}` : ' (it has no aliases yet)'}. Give a version number or an alias.`, 2);
}
