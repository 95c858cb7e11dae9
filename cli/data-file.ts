// A labelled file named on the command line (mlc evaluate --data, mlc feedback FILE). The dataset
// reader's hints speak of a spec's data.path and data.format; here there is no spec, so a missing
// file or an extension that says neither JSONL nor CSV is worded for the flag that named it.
import path from 'node:path';
import { DatasetNotFoundError, detectFormat, readDataset, type DatasetFormat, type ReadResult } from '../adapters/datasets/read';
import { CliError } from './cli-error';

/** Reads `file` as JSONL or CSV by its extension; `named` is how the user gave it ("--data x.jsonl"). */
export async function readCliDataFile(file: string, named: string): Promise<ReadResult> {
  const resolved = path.resolve(file);
  let format: DatasetFormat;
  try {
    format = detectFormat(resolved);
  } catch {
    throw new CliError(`${named}: cannot tell JSONL from CSV by the extension "${path.extname(file)}"; name the file .jsonl or .csv`, 2);
  }
  return readDataset(resolved, format).catch((e: unknown) => {
    if (e instanceof DatasetNotFoundError) throw new CliError(`${named}: no such file`, 2);
    throw e;
  });
}
