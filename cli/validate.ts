// mlc validate: the spec's fields, the clusters and workspaces it names, and its data as
// preprocess will read it (inside the data roots, cleaned, split), so that a wrong textField, a
// label spelled otherwise in the file or a path outside the roots is said before anything starts.
import type { DatasetCheckSummary } from '../adapters/datasets/preprocess';
import type { QuarantinedRow } from '../domain/dataset';
import type { ModelSpec } from '../domain/spec';
import { CliError } from './cli-error';
import { readSpecFile } from './spec-file';

export interface ValidateFlags {
  /** --no-data */
  data: boolean;
  /** --on-worker: where the data is read from, when it lives only on the worker's machine. */
  onWorker?: boolean;
}

export async function validateCommand(specPath: string, opts: ValidateFlags): Promise<void> {
  const { spec, specDir } = await readSpecFile(specPath);
  console.log(`✓ ${specPath}: model ${spec.name}, labels ${spec.labels.join(', ')}`);
  if (!opts.data) return console.log(`  data not checked (--no-data): the worker reads ${spec.data.path} when the lifecycle starts`);
  const check = opts.onWorker ? await checkOnWorker(spec, specDir) : await checkHere(spec, specDir);
  if (!check.usable) throw new CliError([check.error, ...quarantineLines(check.quarantined, check.quarantinedCount)].join('\n'), 2);
  console.log(describeData(check, opts.onWorker ? 'on the worker' : 'here'));
}

async function checkHere(spec: ModelSpec, specDir: string): Promise<DatasetCheckSummary> {
  // Loaded here: a spec that fails its fields never pays for the dataset readers.
  const [{ checkDataset, summarizeDatasetCheck }, { dataAccessFrom, DataPathRefusedError, DatasetNotFoundError }, { loadConfig }] = await Promise.all([
    import('../adapters/datasets/preprocess'),
    import('../adapters/datasets'),
    import('../temporal.config'),
  ]);
  try {
    return summarizeDatasetCheck(await checkDataset({ spec, specDir, dataAccess: dataAccessFrom(loadConfig()) }));
  } catch (e) {
    if (e instanceof DatasetNotFoundError)
      throw new CliError(
        `data.path ${spec.data.path}: no such file here (${e.path}; a relative path is resolved against the spec's folder). If the data is only where the worker runs, validate it there with --on-worker, or skip it with --no-data.`,
        2,
      );
    if (e instanceof DataPathRefusedError) throw new CliError(e.message, 2);
    throw e;
  }
}

// Reading and splitting the whole corpus takes seconds; a worker busy with other work gets longer.
const ON_WORKER_TIMEOUT = '5 minutes';

/** The same check as a short workflow answered by a worker: its data roots, its files (workflows/admin.ts). */
async function checkOnWorker(spec: ModelSpec, specDir: string): Promise<DatasetCheckSummary> {
  const [{ randomUUID }, { openContext, workerAbsence }, { workerFailure }, { taskQueues }] = await Promise.all([
    import('node:crypto'),
    import('./context'),
    import('./registry-access'),
    import('../domain/temporal-names'),
  ]);
  const ctx = await openContext();
  const then = 'start one (npm run worker; restart it if it predates this mlc), or validate here without --on-worker';
  try {
    const absent = await workerAbsence(ctx, taskQueues.control);
    if (absent !== null) throw new CliError(`no worker polls task queue ${taskQueues.control} (${absent}): ${then}`);
    return await ctx.client.workflow.execute<(input: { spec: ModelSpec; specDir: string }) => Promise<DatasetCheckSummary>>('dataCheckRequest', {
      taskQueue: taskQueues.control,
      workflowId: `mlc-admin-dataCheckRequest-${randomUUID()}`,
      args: [{ spec, specDir }],
      workflowExecutionTimeout: ON_WORKER_TIMEOUT,
    });
  } catch (err) {
    throw workerFailure(err, { within: ON_WORKER_TIMEOUT, then });
  } finally {
    await ctx.close();
  }
}

function describeData(check: Extract<DatasetCheckSummary, { usable: true }>, where: string): string {
  const { report, sources } = check;
  const n = (v: number) => v.toLocaleString('en-US');
  const source = sources[0]!;
  const splits = (['train', 'valid', 'test'] as const).map((s) => `${s} ${n(Object.values(report.perLabel[s]).reduce((a, b) => a + b, 0))}`);
  const perLabel = Object.keys(report.perLabel.train).map((l) => `${l} ${n(report.perLabel.train[l]! + report.perLabel.valid[l]! + report.perLabel.test[l]!)}`);
  const reasons = Object.entries(report.quarantinedByReason).filter(([, count]) => count > 0);
  return [
    `✓ data ${source.path} (${source.format}, read ${where}): ${n(report.input)} records, ${n(report.kept)} kept: ${splits.join(' · ')}`,
    `  labels      ${perLabel.join(' · ')}${report.imbalance === null ? '' : `   (largest / smallest ${report.imbalance}×)`}`,
    `  removed     ${reasons.length ? `${n(check.quarantinedCount)} quarantined (${reasons.map(([r, c]) => `${r} ${n(c)}`).join(', ')})` : 'none quarantined'}, ${n(report.duplicatesRemoved)} duplicates`,
    `  dataset     ${check.hash} (the hash its first generation will record)`,
    ...report.warnings.map((w) => `  ⚠ ${w}`),
  ].join('\n');
}

function quarantineLines(shown: QuarantinedRow[], count: number): string[] {
  const lines = shown.map((q) => `  line ${q.line}: ${q.reason}: ${q.detail}`);
  return count > shown.length ? [...lines, `  … and ${count - shown.length} more`] : lines;
}
