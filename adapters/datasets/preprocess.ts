// The preprocess stage on disk: read the spec's data (plus feedback files when retraining),
// clean, split, and write train/valid/test/quarantine JSONL and report.json atomically.
// Same input → same bytes and the same hash, so the activity can safely run twice.
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import {
  assertTrainable,
  canonicalDataset,
  cleanRows,
  DatasetError,
  dataReport,
  splitNames,
  stratifiedSplit,
  toJsonl,
  type CleanResult,
  type DataReport,
  type QuarantinedRow,
  type RawRow,
  type SplitName,
  type Splits,
} from '../../domain/dataset';
import type { ModelSpec } from '../../domain/spec';
import { confineDataPath, type DataAccess } from './data-roots';
import { readDataset, type DatasetFormat } from './read';
import { writeFileAtomic } from '../artifacts/atomic';

export interface DatasetFile {
  path: string;
  bytes: number;
  sha256: string;
  rows?: number;
}

export interface SourceSummary {
  /** As given: the spec's data.path, or the extra file's path. */
  path: string;
  format: DatasetFormat;
  records: number;
  blankLines: number;
}

export type PreprocessReport = DataReport & {
  /** The dataset version: sha256 of canonicalDataset(splits, labels). */
  hash: string;
  labels: string[];
  sources: SourceSummary[];
  split: { validFraction: number; testFraction: number; seed: number };
  normalization: string;
};

export interface PreprocessResult {
  hash: string;
  report: PreprocessReport;
  files: Record<SplitName | 'quarantine' | 'report', DatasetFile>;
}

export interface PreprocessInput {
  spec: Pick<ModelSpec, 'labels' | 'data'>;
  /** Folder of the spec file: data.path is resolved against it. */
  specDir: string;
  outDir: string;
  /**
   * Labelled feedback to train on as well: JSONL (or .csv) with fields "text" and "label",
   * whatever the spec's field names. Read after the original data: a feedback row equal to an original row is a
   * duplicate; with another label, both are quarantined as conflicting_label.
   */
  /** Feedback files; `name` (e.g. the artifact key) is what the report shows instead of the local path. */
  extraFiles?: (string | { path: string; name: string })[];
  /**
   * Where data.path may lead (see data-roots.ts); the worker always passes it. Feedback files
   * are the worker's own, fetched from the artifact store, and are not confined.
   */
  dataAccess?: DataAccess;
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The dataset version of splits: sha256 of their canonical serialization. */
export function datasetHash(splits: Splits, labels: readonly string[]): string {
  return sha256Hex(canonicalDataset(splits, labels));
}

/** Writes atomically (see adapters/artifacts/atomic.ts) and describes what was written. */
export async function writeDatasetFile(path: string, data: string): Promise<DatasetFile> {
  const bytes = Buffer.from(data, 'utf8');
  await writeFileAtomic(path, bytes);
  return { path, bytes: bytes.length, sha256: sha256Hex(bytes) };
}

function asFeedback(rows: RawRow[], textField: string, labelField: string): RawRow[] {
  if (textField === 'text' && labelField === 'label') return rows;
  return rows.map((r) => {
    if (!r.record) return r;
    const { text, label, ...rest } = r.record;
    return { ...r, record: { ...rest, ...(text !== undefined && { [textField]: text }), ...(label !== undefined && { [labelField]: label }) } };
  });
}

/** What preprocess reads and keeps, before anything is written. */
async function readAndClean(input: Omit<PreprocessInput, 'outDir'>): Promise<{ sources: SourceSummary[]; cleaned: CleanResult }> {
  const { spec, specDir, extraFiles = [], dataAccess } = input;
  const { labels, data } = spec;
  // Nothing is read before the path is allowed; what is read is the checked real path.
  const mainPath = dataAccess ? await confineDataPath(resolve(specDir, data.path), dataAccess) : resolve(specDir, data.path);

  const main = await readDataset(mainPath, data.format, data.path);
  const sources: SourceSummary[] = [{ path: data.path, format: main.format, records: main.rows.length, blankLines: main.blankLines }];
  const raw = [...main.rows];
  for (const file of extraFiles) {
    const extra = typeof file === 'string' ? { path: file, name: file } : file;
    const read = await readDataset(resolve(specDir, extra.path), extname(extra.name).toLowerCase() === '.csv' ? 'csv' : 'jsonl', extra.name);
    sources.push({ path: extra.name, format: read.format, records: read.rows.length, blankLines: read.blankLines });
    raw.push(...asFeedback(read.rows, data.textField, data.labelField));
  }
  return { sources, cleaned: cleanRows(raw, { labels, textField: data.textField, labelField: data.labelField }) };
}

/** A spec's data as preprocess would find it: usable, with its report and hash, or not, and why. */
export type DatasetCheck = { sources: SourceSummary[]; quarantined: QuarantinedRow[] } & (
  { usable: true; hash: string; report: DataReport } | { usable: false; error: DatasetError }
);

/** How many quarantined rows a summary carries: enough to see the pattern, small enough for a workflow result. */
export const SUMMARY_QUARANTINED_ROWS = 5;

/** A DatasetCheck for printing, here or after it crossed Temporal (mlc validate --on-worker): the first quarantined rows and their count. */
export type DatasetCheckSummary = { sources: SourceSummary[]; quarantined: QuarantinedRow[]; quarantinedCount: number } & (
  { usable: true; hash: string; report: DataReport } | { usable: false; error: string }
);

export function summarizeDatasetCheck(check: DatasetCheck): DatasetCheckSummary {
  const common = { sources: check.sources, quarantined: check.quarantined.slice(0, SUMMARY_QUARANTINED_ROWS), quarantinedCount: check.quarantined.length };
  return check.usable ? { ...common, usable: true, hash: check.hash, report: check.report } : { ...common, usable: false, error: check.error.message };
}

/**
 * Preprocess without writing anything: what `mlc validate` says of a spec's data before a
 * lifecycle is started on it. The same confinement, reading, cleaning, checks and split, so
 * it refuses what preprocess would refuse and gives the dataset hash the first generation gets.
 */
export async function checkDataset(input: Omit<PreprocessInput, 'outDir' | 'extraFiles'>): Promise<DatasetCheck> {
  const { labels, data } = input.spec;
  const { sources, cleaned } = await readAndClean(input);
  const { quarantined } = cleaned;
  try {
    assertTrainable(cleaned, labels, { ...data, quarantineListing: 'The first quarantined rows follow.' });
  } catch (error) {
    if (error instanceof DatasetError) return { usable: false, error, sources, quarantined };
    throw error;
  }
  const splits = stratifiedSplit(cleaned.rows, data);
  return { usable: true, hash: datasetHash(splits, labels), report: dataReport(cleaned, splits, labels), sources, quarantined };
}

export async function preprocessDataset(input: PreprocessInput): Promise<PreprocessResult> {
  const { spec, outDir } = input;
  const { labels, data } = spec;
  const { sources, cleaned } = await readAndClean(input);
  await mkdir(outDir, { recursive: true });
  const quarantineFile = await writeDatasetFile(join(outDir, 'quarantine.jsonl'), toJsonl(cleaned.quarantined));
  // Quarantine is written first so that, when the data is unusable, it is there to read.
  assertTrainable(cleaned, labels, data);

  const splits = stratifiedSplit(cleaned.rows, data);
  const hash = datasetHash(splits, labels);
  const report: PreprocessReport = {
    hash,
    labels: [...labels],
    sources,
    split: { validFraction: data.validFraction, testFraction: data.testFraction, seed: data.seed },
    normalization: 'NFC; ZWSP (U+200B) and BOM (U+FEFF) removed; whitespace runs collapsed to one space; trimmed',
    ...dataReport(cleaned, splits, labels),
  };

  const written = {} as Record<SplitName, DatasetFile>;
  for (const name of splitNames) {
    const rows = splits[name];
    written[name] = {
      ...(await writeDatasetFile(join(outDir, `${name}.jsonl`), toJsonl(rows.map(({ text, label }) => ({ text, label }))))),
      rows: rows.length,
    };
  }
  // report.json last: its presence means the folder is complete.
  const reportFile = await writeDatasetFile(join(outDir, 'report.json'), JSON.stringify(report, null, 2) + '\n');
  return {
    hash,
    report,
    files: { ...written, quarantine: { ...quarantineFile, rows: cleaned.quarantined.length }, report: reportFile },
  };
}
