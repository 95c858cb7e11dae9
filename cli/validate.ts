// mlc validate: the spec's fields, the clusters and workspaces it names, and its data as
// preprocess will read it (inside the data roots, cleaned, split), so that a wrong textField, a
// label spelled otherwise in the file or a path outside the roots is said before anything starts.
import type { DatasetCheck } from '../adapters/datasets/preprocess';
import type { QuarantinedRow } from '../domain/dataset';
import { CliError } from './cli-error';
import { readSpecFile } from './spec-file';

/** How many quarantined rows are shown: enough to see the pattern. */
const SHOWN_QUARANTINED = 5;

export async function validateCommand(specPath: string, opts: { data: boolean }): Promise<void> {
  const { spec, specDir } = await readSpecFile(specPath);
  console.log(`✓ ${specPath}: model ${spec.name}, labels ${spec.labels.join(', ')}`);
  if (!opts.data) return console.log(`  data not checked (--no-data): the worker reads ${spec.data.path} when the lifecycle starts`);

  // Loaded here: a spec that fails its fields never pays for the dataset readers.
  const [{ checkDataset }, { dataAccessFrom, DataPathRefusedError, DatasetNotFoundError }, { loadConfig }] = await Promise.all([
    import('../adapters/datasets/preprocess'),
    import('../adapters/datasets'),
    import('../temporal.config'),
  ]);
  let check: DatasetCheck;
  try {
    check = await checkDataset({ spec, specDir, dataAccess: dataAccessFrom(loadConfig()) });
  } catch (e) {
    if (e instanceof DatasetNotFoundError)
      throw new CliError(
        `data.path ${spec.data.path}: no such file here (${e.path}; a relative path is resolved against the spec's folder). If the data is only where the worker runs, validate with --no-data.`,
        2,
      );
    if (e instanceof DataPathRefusedError) throw new CliError(e.message, 2);
    throw e;
  }
  if (!check.usable) throw new CliError([check.error.message, ...quarantineLines(check.quarantined)].join('\n'), 2);
  console.log(describeData(check));
}

function describeData(check: Extract<DatasetCheck, { usable: true }>): string {
  const { report, sources } = check;
  const n = (v: number) => v.toLocaleString('en-US');
  const source = sources[0]!;
  const splits = (['train', 'valid', 'test'] as const).map((s) => `${s} ${n(Object.values(report.perLabel[s]).reduce((a, b) => a + b, 0))}`);
  const perLabel = Object.keys(report.perLabel.train).map((l) => `${l} ${n(report.perLabel.train[l]! + report.perLabel.valid[l]! + report.perLabel.test[l]!)}`);
  const reasons = Object.entries(report.quarantinedByReason).filter(([, count]) => count > 0);
  return [
    `✓ data ${source.path} (${source.format}): ${n(report.input)} records, ${n(report.kept)} kept: ${splits.join(' · ')}`,
    `  labels      ${perLabel.join(' · ')}${report.imbalance === null ? '' : `   (largest / smallest ${report.imbalance}×)`}`,
    `  removed     ${reasons.length ? `${n(check.quarantined.length)} quarantined (${reasons.map(([r, c]) => `${r} ${n(c)}`).join(', ')})` : 'none quarantined'}, ${n(report.duplicatesRemoved)} duplicates`,
    `  dataset     ${check.hash} (the hash its first generation will record)`,
    ...report.warnings.map((w) => `  ⚠ ${w}`),
  ].join('\n');
}

function quarantineLines(rows: QuarantinedRow[]): string[] {
  const shown = rows.slice(0, SHOWN_QUARANTINED).map((q) => `  line ${q.line}: ${q.reason}: ${q.detail}`);
  return rows.length > SHOWN_QUARANTINED ? [...shown, `  … and ${rows.length - SHOWN_QUARANTINED} more`] : shown;
}
