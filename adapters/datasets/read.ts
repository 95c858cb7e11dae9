// Reads a JSONL or CSV dataset as a stream of RawRow records. A bad line becomes a record
// with parseError (cleanRows quarantines it); only a file that cannot be read at all throws.
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { extname } from 'node:path';
import { TextDecoder } from 'node:util';
import { DatasetError, type RawRow } from '../../domain/dataset';
import { CsvReader } from './csv';

export type DatasetFormat = 'jsonl' | 'csv';

export class DatasetNotFoundError extends DatasetError {
  override name = 'DatasetNotFoundError';
  constructor(
    readonly path: string,
    readonly field = 'data.path',
    options?: { cause?: unknown },
  ) {
    super(`Dataset file not found: ${path}`, `Check ${field} in the spec; a relative path is resolved against the spec file's folder.`, options);
  }
}

export interface Line {
  /** 1-based line number. */
  no: number;
  text: string;
  /** The bytes were not valid UTF-8; `text` holds U+FFFD where they were. */
  invalidUtf8: boolean;
}

const encodingHint = 'not valid UTF-8 (Thai files from older systems are often TIS-620/Windows-874: convert with `iconv -f TIS-620 -t UTF-8`)';
// NUL is valid UTF-8 but never text: a UTF-16 file without its byte-order mark reads as
// text with a NUL after every ASCII letter, and would otherwise pass as odd field names.
const nulHint = 'contains NUL bytes: the file is binary, or UTF-16 without a byte-order mark (convert with `iconv -f UTF-16LE -t UTF-8`)';

/**
 * Lines of a file, decoded. UTF-8 (a BOM is skipped) is split on "\n" bytes and decoded line by
 * line, so one badly encoded line does not spoil the rest; UTF-16 files with a BOM are decoded
 * as a stream. A trailing "\r" is removed (CRLF files).
 */
export async function* readLines(path: string): AsyncGenerator<Line> {
  const strict = new TextDecoder('utf-8', { fatal: true });
  const lenient = new TextDecoder('utf-8');
  let no = 0;
  let pending: Buffer[] = [];
  let first = true;
  let utf16: TextDecoder | undefined;
  let carry = '';
  const emit = (bytes: Buffer): Line => {
    no++;
    let text: string;
    let invalidUtf8 = false;
    try {
      text = strict.decode(bytes);
    } catch {
      text = lenient.decode(bytes);
      invalidUtf8 = true;
    }
    return { no, text: text.endsWith('\r') ? text.slice(0, -1) : text, invalidUtf8 };
  };
  const textLines = function* (chunk: string, final: boolean): Generator<Line> {
    const parts = (carry + chunk).split('\n');
    carry = final ? '' : parts.pop()!;
    if (final && parts.at(-1) === '') parts.pop();
    for (const p of parts) yield { no: ++no, text: p.endsWith('\r') ? p.slice(0, -1) : p, invalidUtf8: false };
  };

  for await (const data of createReadStream(path)) {
    let chunk = data as Buffer;
    if (first) {
      first = false;
      if (chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) chunk = chunk.subarray(3);
      else if (chunk[0] === 0xff && chunk[1] === 0xfe) utf16 = new TextDecoder('utf-16le');
      else if (chunk[0] === 0xfe && chunk[1] === 0xff) utf16 = new TextDecoder('utf-16be');
    }
    if (utf16) {
      yield* textLines(utf16.decode(chunk, { stream: true }), false);
      continue;
    }
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      const piece = chunk.subarray(start, nl);
      yield emit(pending.length ? Buffer.concat([...pending, piece]) : piece);
      pending = [];
      start = nl + 1;
    }
    if (start < chunk.length) pending.push(chunk.subarray(start));
  }
  if (utf16) yield* textLines(utf16.decode(), true);
  else if (pending.length) yield emit(Buffer.concat(pending));
}

export function detectFormat(path: string, format?: DatasetFormat): DatasetFormat {
  if (format) return format;
  const ext = extname(path).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  if (ext === '.csv') return 'csv';
  throw new DatasetError(
    `Cannot tell the format of ${path} from its extension "${ext}".`,
    'Set data.format to "jsonl" or "csv" in the spec, or rename the file to .jsonl or .csv.',
  );
}

function jsonlRow(line: Line, source: string | undefined): RawRow {
  const base = { line: line.no, ...(source !== undefined && { source }), raw: line.text };
  if (line.invalidUtf8) return { ...base, parseError: `line ${line.no} is ${encodingHint}` };
  if (line.text.includes('\0')) return { ...base, parseError: `line ${line.no} ${nulHint}` };
  let value: unknown;
  try {
    value = JSON.parse(line.text);
  } catch (e) {
    return { ...base, parseError: `invalid JSON: ${(e as Error).message}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ...base, parseError: `expected a JSON object, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`}` };
  }
  return { ...base, record: value as Record<string, unknown> };
}

export interface ReadOptions {
  format?: DatasetFormat;
  /** Recorded on each row (e.g. the path as the spec names it), to tell files apart. */
  source?: string;
  /** Called for each blank line skipped (not a record). */
  onBlankLine?: (no: number) => void;
}

/** Streams the records of a dataset file. Throws only when the file cannot be read at all. */
export async function* readDatasetRows(path: string, options: ReadOptions = {}): AsyncGenerator<RawRow> {
  const format = detectFormat(path, options.format);
  const { source, onBlankLine } = options;
  try {
    const fh = await open(path, 'r');
    const isFile = (await fh.stat()).isFile();
    await fh.close();
    if (!isFile) throw new DatasetError(`Dataset path ${path} is not a file.`, 'Point data.path at a .jsonl or .csv file, not a folder.');
  } catch (e) {
    if (e instanceof DatasetError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new DatasetNotFoundError(path, 'data.path', { cause: e });
    throw new DatasetError(`Cannot read dataset ${path} (${code ?? (e as Error).message}).`, "Check data.path in the spec and the file's permissions.", {
      cause: e,
    });
  }

  if (format === 'jsonl') {
    for await (const line of readLines(path)) {
      if (line.text.trim() === '') onBlankLine?.(line.no);
      else yield jsonlRow(line, source);
    }
    return;
  }

  const csv = new CsvReader();
  let header: string[] | undefined;
  let badEncodingFrom: number | undefined;
  let nulFrom: number | undefined;
  const toRow = (rec: NonNullable<ReturnType<CsvReader['pushLine']>>): RawRow | undefined => {
    const bad = badEncodingFrom;
    const nul = nulFrom;
    badEncodingFrom = nulFrom = undefined;
    if (rec.raw.trim() === '' && rec.fields.length === 1) {
      onBlankLine?.(rec.line);
      return undefined;
    }
    if (!header) {
      if (bad !== undefined) throw new DatasetError(`The CSV header of ${path} is ${encodingHint}.`, 'Save the file as UTF-8 and start again.');
      if (nul !== undefined) throw new DatasetError(`The CSV header of ${path} ${nulHint}.`, 'Save the file as UTF-8 and start again.');
      header = rec.fields.map((f) => f.trim());
      const dup = header.find((h, i) => header!.indexOf(h) !== i);
      if (rec.error || dup !== undefined) {
        throw new DatasetError(
          `The CSV header of ${path} is unusable: ${rec.error ?? `column "${dup}" appears twice`}.`,
          'The first line must name each column once, e.g. text,label.',
        );
      }
      return undefined;
    }
    const base = { line: rec.line, ...(source !== undefined && { source }), raw: rec.raw };
    if (bad !== undefined) return { ...base, parseError: `line ${bad} is ${encodingHint}` };
    if (nul !== undefined) return { ...base, parseError: `line ${nul} ${nulHint}` };
    if (rec.error) return { ...base, parseError: rec.error };
    if (rec.fields.length !== header.length) {
      return { ...base, parseError: `expected ${header.length} fields (${header.join(', ')}), got ${rec.fields.length}; quote fields that contain commas` };
    }
    return { ...base, record: Object.fromEntries(header.map((h, i) => [h, rec.fields[i]])) };
  };
  for await (const line of readLines(path)) {
    if (line.invalidUtf8) badEncodingFrom ??= line.no;
    if (line.text.includes('\0')) nulFrom ??= line.no;
    const rec = csv.pushLine(line.text);
    const row = rec && toRow(rec);
    if (row) yield row;
  }
  const last = csv.end();
  const row = last && toRow(last);
  if (row) yield row;
}

export interface ReadResult {
  format: DatasetFormat;
  rows: RawRow[];
  /** Blank lines are not records; counted so the report accounts for every line. */
  blankLines: number;
}

/** Reads a whole dataset file into memory (cleaning needs every row to find duplicates). */
export async function readDataset(path: string, format?: DatasetFormat, source?: string): Promise<ReadResult> {
  const resolved = detectFormat(path, format);
  const rows: RawRow[] = [];
  let blankLines = 0;
  for await (const row of readDatasetRows(path, { format: resolved, ...(source !== undefined && { source }), onBlankLine: () => blankLines++ })) rows.push(row);
  return { format: resolved, rows, blankLines };
}
