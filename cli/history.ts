// mlc history: every decision about a model (audits, deploys, rollbacks, retrains, refusals),
// read straight from the registry rather than from one workflow's status, so it covers every
// generation and lifecycle the model ever had. Reading the registry from a second process
// needs PostgreSQL: embedded PGlite belongs to the one process that opened it (the worker).
import { openRegistry } from '../adapters/db/open';
import type { DecisionRecord } from '../adapters/db/port';
import { loadConfig, type MlcConfig } from '../temporal.config';
import { CliError } from './cli-error';

/** Why `mlc history` cannot run on the embedded registry, and the two ways round it. */
export function embeddedRegistryRefusal(model: string, config: MlcConfig): string {
  return (
    `mlc history reads the registry directly, and the embedded registry (PGlite under ${config.paths.data}/registry) ` +
    `is single-process: it belongs to the worker that opened it. Set DATABASE_URL to the PostgreSQL database the worker uses, ` +
    `or ask the worker: mlc status ${model} --json lists the decisions of the running lifecycle.`
  );
}

export async function historyCommand(model: string, opts: { json?: boolean }, config: MlcConfig = loadConfig()) {
  if (!config.databaseUrl) throw new CliError(embeddedRegistryRefusal(model, config), 2);
  const registry = await openRegistry({ databaseUrl: config.databaseUrl, dataDir: config.paths.data });
  let decisions: DecisionRecord[];
  try {
    decisions = await registry.listDecisions(model);
  } finally {
    await registry.close();
  }
  if (opts.json) return console.log(JSON.stringify(decisions.map(historyRow), null, 2));
  if (!decisions.length) return console.log(`no decisions recorded for ${model} (the first comes with its first audit)`);
  console.log(decisions.map(formatDecision).join('\n'));
}

/** The stable shape of `mlc history --json`: who, when, what, outcome, why, which version. */
export function historyRow(d: DecisionRecord) {
  return {
    at: d.decidedAt,
    actor: d.actor,
    kind: d.kind,
    outcome: d.outcome,
    reason: d.reason,
    version: d.version,
    artifactSha256: d.artifactSha256 ?? null,
    workflowId: d.workflowId,
  };
}

export function formatDecision(d: DecisionRecord): string {
  const version = d.version == null ? 'v—' : `v${d.version}`;
  return `${d.decidedAt}  ${d.kind.padEnd(8)} ${d.outcome.padEnd(9)} ${version.padEnd(4)} by ${d.actor}: ${d.reason}`;
}
