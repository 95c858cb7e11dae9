// mlc models: every model the registry knows, in one table, as MLflow lists its registered
// models: how many versions, which one serves, and the last decision about it. Read like
// mlc history: PostgreSQL directly, or the embedded registry through a worker.
import type { TrackingRegistry } from '../activities/tracking';
import type { ModelSummary } from '../adapters/db/port';
import { formatTable } from './format';

export async function modelsCommand(registry: Pick<TrackingRegistry, 'listModels'>, opts: { json?: boolean }): Promise<void> {
  const models = await registry.listModels();
  if (opts.json) return console.log(JSON.stringify(models, null, 2));
  if (!models.length) return console.log('no models in the registry yet (a lifecycle registers its model: mlc start <spec.yaml>)');
  console.log(formatModels(models));
  console.log('  one model: mlc status <model>, mlc runs <model>, mlc history <model>');
}

export function formatModels(models: ModelSummary[]): string {
  const rows = models.map((m) => [
    m.name,
    String(m.versions),
    m.latestVersion === null ? '—' : `v${m.latestVersion}`,
    m.deployedVersion === null ? '—' : `v${m.deployedVersion}`,
    lastDecision(m),
  ]);
  return formatTable(['model', 'versions', 'latest', 'deployed', 'last decision'], rows, [false, true, false, false, false]);
}

function lastDecision({ lastDecision: d }: ModelSummary): string {
  if (!d) return '—';
  const version = d.version === null ? '' : ` v${d.version}`;
  return `${d.kind}${version} ${d.outcome} by ${d.actor}, ${d.decidedAt.slice(0, 16).replace('T', ' ')} UTC`;
}
