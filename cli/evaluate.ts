// mlc evaluate: score any labelled file — a team's own golden set — with a registered version,
// through the same normalisation (cleanRows) and ONNX scorer as the product, and print the
// model card's metric tables. Read-only: nothing is recorded and the lifecycle is untouched.
import { metricsTable, perClassTable, confusionTable } from '../activities/metrics-table';
import type { TrackingRegistry } from '../activities/tracking';
import type { ArtifactStore } from '../adapters/artifacts/port';
import { readCliDataFile } from './data-file';
import type { LoadScorer } from '../adapters/scoring/port';
import { cleanRows, type CleanResult } from '../domain/dataset';
import { bootstrapReport, classificationReport, type ClassificationReport, type ReportIntervals } from '../domain/metrics';
import { scoreAll } from '../activities/scoring-helpers';
import { resolveVersion } from './aliases';
import { CliError } from './cli-error';

// The model card's bootstrap (activities/evaluate.ts), so the two intervals mean the same.
const BOOTSTRAP = { iterations: 500, seed: 7 };

export interface EvaluateFlags {
  version: string;
  data: string;
  textField?: string;
  labelField?: string;
  json?: boolean;
}

export interface EvaluateDeps {
  registry: TrackingRegistry;
  openStore: () => Promise<ArtifactStore>;
  loadScorer: LoadScorer;
}

export interface GoldenSetResult {
  model: string;
  version: number;
  data: string;
  rows: number;
  /** Rows left out by the product's cleaning, by reason (malformed, unknown_label, …). */
  skipped: Record<string, number>;
  duplicatesRemoved: number;
  report: ClassificationReport;
  intervals: ReportIntervals['metrics'];
}

export async function evaluateGoldenSet(model: string, flags: EvaluateFlags, deps: EvaluateDeps): Promise<{ result: GoldenSetResult; cleaned: CleanResult }> {
  const version = await resolveVersion(deps.registry, model, flags.version);
  const record = await deps.registry.getModelVersion(model, version);
  if (!record) throw new CliError(`${model} has no version ${version} in the registry; mlc runs ${model} lists the versions`, 2);
  // The file before the model: a bad path or extension is reported without fetching and loading it.
  const { rows: raw } = await readCliDataFile(flags.data, `--data ${flags.data}`);
  const store = await deps.openStore();
  const scorer = await deps.loadScorer(await store.localFolder(store.keyOf(record.artifactUri)));
  try {
    const cleaned = cleanRows(raw, { labels: scorer.labels, textField: flags.textField ?? 'text', labelField: flags.labelField ?? 'label' });
    if (!cleaned.rows.length) {
      const first = cleaned.quarantined[0];
      throw new CliError(
        `${flags.data}: no row can be scored (${raw.length} read${first ? `; line ${first.line}: ${first.detail}` : ''}). ` +
          `Rows need a "${flags.textField ?? 'text'}" and a "${flags.labelField ?? 'label'}" that is one of ${scorer.labels.join(', ')} (--text-field, --label-field).`,
        2,
      );
    }
    const truth = cleaned.rows.map((r) => r.label);
    const predicted = (
      await scoreAll(
        scorer,
        cleaned.rows.map((r) => r.text),
        () => {},
      )
    ).map((p) => p.label);
    const skipped: Record<string, number> = {};
    for (const q of cleaned.quarantined) skipped[q.reason] = (skipped[q.reason] ?? 0) + 1;
    return {
      cleaned,
      result: {
        model,
        version,
        data: flags.data,
        rows: cleaned.rows.length,
        skipped,
        duplicatesRemoved: cleaned.duplicatesRemoved,
        report: classificationReport(scorer.labels, truth, predicted),
        intervals: bootstrapReport(scorer.labels, truth, predicted, BOOTSTRAP).metrics,
      },
    };
  } finally {
    await scorer.close();
  }
}

export function formatGoldenSet(r: GoldenSetResult, cleaned: CleanResult): string {
  const skipped = Object.entries(r.skipped);
  const notes = [
    ...(skipped.length ? [`${skipped.reduce((s, [, n]) => s + n, 0)} skipped: ${skipped.map(([why, n]) => `${n} ${why}`).join(', ')}`] : []),
    ...(r.duplicatesRemoved ? [`${r.duplicatesRemoved} duplicate${r.duplicatesRemoved === 1 ? '' : 's'} removed`] : []),
  ];
  return [
    `# ${r.model} v${r.version} on ${r.data}: ${r.rows} rows scored${notes.length ? ` (${notes.join('; ')})` : ''}`,
    ...cleaned.quarantined.slice(0, 5).map((q) => `  line ${q.line}: ${q.reason}: ${q.detail}`),
    ...(cleaned.quarantined.length > 5 ? [`  … ${cleaned.quarantined.length - 5} more`] : []),
    '',
    `## Metrics (95% bootstrap interval)`,
    '',
    ...metricsTable(r.report, r.intervals),
    '',
    '## Per class',
    '',
    ...perClassTable(r.report),
    '',
    '## Confusion matrix (rows: truth, columns: predicted)',
    '',
    ...confusionTable(r.report),
  ].join('\n');
}

export async function evaluateCommand(model: string, flags: EvaluateFlags, deps: EvaluateDeps) {
  const { result, cleaned } = await evaluateGoldenSet(model, flags, deps);
  console.log(flags.json ? JSON.stringify(result, null, 2) : formatGoldenSet(result, cleaned));
}
