// A small RFC 4180 reader, fed one physical line at a time so the dataset reader can stream
// and report line numbers. Quoted fields may hold commas, doubled quotes ("") and line
// breaks; a line break inside a field comes back as "\n" (CRLF included). Lenient where
// spreadsheets are sloppy: a quote inside an unquoted field is kept as a character.
// Strict where data would be lost: text after a closing quote, or a quote never closed.

export interface CsvRecord {
  /** Line where the record starts (1-based). */
  line: number;
  fields: string[];
  /** The record's lines as read, joined with "\n". */
  raw: string;
  error?: string;
}

export class CsvReader {
  private fields: string[] = [];
  private field = '';
  private quoted = false; // inside an open quoted field, across lines
  private error: string | undefined;
  private startLine = 0;
  private rawLines: string[] = [];
  private lineNo = 0;

  /** Feed the next physical line, without its line terminator; returns the record it completes. */
  pushLine(text: string): CsvRecord | undefined {
    this.lineNo++;
    const line = text.endsWith('\r') ? text.slice(0, -1) : text;
    if (this.rawLines.length === 0) this.startLine = this.lineNo;
    else this.field += '\n'; // the line break belongs to the open quoted field
    this.rawLines.push(line);
    let i = 0;
    let atFieldStart = !this.quoted && this.fields.length === 0 && this.field === '';
    while (i < line.length) {
      const c = line[i]!;
      if (this.quoted) {
        if (c !== '"') this.field += c;
        else if (line[i + 1] === '"') {
          this.field += '"';
          i++;
        } else {
          this.quoted = false;
          const next = line[i + 1];
          if (next !== undefined && next !== ',') {
            this.error ??= `unexpected ${JSON.stringify(next)} after the closing quote of field ${this.fields.length + 1} (quote the whole field and double the quotes inside it)`;
          }
        }
      } else if (c === ',') {
        this.fields.push(this.field);
        this.field = '';
        atFieldStart = true;
        i++;
        continue;
      } else if (c === '"' && atFieldStart && this.field === '') {
        this.quoted = true;
      } else {
        this.field += c;
      }
      atFieldStart = false;
      i++;
    }
    return this.quoted ? undefined : this.finish();
  }

  /** Call at end of input: returns a record with an error when a quote was left open. */
  end(): CsvRecord | undefined {
    if (this.rawLines.length === 0) return undefined;
    this.error ??= `a quoted field opened on line ${this.startLine} is never closed`;
    this.quoted = false;
    return this.finish();
  }

  private finish(): CsvRecord {
    this.fields.push(this.field);
    const record: CsvRecord = {
      line: this.startLine,
      fields: this.fields,
      raw: this.rawLines.join('\n'),
      ...(this.error !== undefined && { error: this.error }),
    };
    this.fields = [];
    this.field = '';
    this.error = undefined;
    this.rawLines = [];
    return record;
  }
}

/** Parses a whole CSV string (tests, small inputs). Empty lines outside quotes are skipped. */
export function parseCsv(text: string): CsvRecord[] {
  const reader = new CsvReader();
  const out: CsvRecord[] = [];
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  for (const line of lines) {
    const r = reader.pushLine(line);
    if (r && !(r.fields.length === 1 && r.fields[0] === '' && r.raw === '')) out.push(r);
  }
  const last = reader.end();
  if (last) out.push(last);
  return out;
}
