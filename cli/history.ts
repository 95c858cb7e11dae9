// mlc history: every decision about a model (audits, deploys, rollbacks, retrains, refusals),
// read from the registry rather than from one workflow's status, so it covers every generation
// and lifecycle the model ever had. Like mlc runs, it reads PostgreSQL directly when DATABASE_URL
// is set, else the embedded registry through a running worker (cli/registry-access.ts).
import type { TrackingRegistry } from '../activities/tracking';
import type { DecisionRecord } from '../adapters/db/port';

export async function historyCommand(registry: Pick<TrackingRegistry, 'listDecisions'>, model: string, opts: { json?: boolean }) {
  const decisions = await registry.listDecisions(model);
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
