// Generators of dataset files as they arrive from the field: mostly good rows, with label
// typos, wrong JSON types, broken JSON and CSV quoting, empty texts, duplicates and
// contradictions mixed in, in any of the encodings a spreadsheet or an old system writes
// (UTF-8 with or without BOM, UTF-16 with or without BOM, Latin-1), CRLF or LF, sometimes a
// several-megabyte line, sometimes no dataset at all (empty, binary).
import fc from 'fast-check';
import { nastyString, ownObject, pollutingKeys } from './arbitraries';

export type Encoding = 'utf8' | 'utf8-bom' | 'utf16le-bom' | 'utf16be-bom' | 'utf16le' | 'latin1';

/** One line of a file: text, or raw bytes that need not be valid in any encoding. */
export type FileLine = { text: string } | { bytes: Uint8Array };

export interface DatasetCase {
  labels: string[];
  textField: string;
  labelField: string;
  /** The data file's name, its extension included; data.format when set. */
  fileName: string;
  format?: 'jsonl' | 'csv';
  /** How the rows were written; `content` is what goes to disk. */
  written: 'jsonl' | 'csv';
  encoding: Encoding;
  eol: '\n' | '\r\n';
  lines: FileLine[];
  /** Replaces the whole file when set (empty, binary garbage). */
  whole?: Uint8Array;
  /** A feedback file (JSONL, UTF-8) to add, as a retrain would. */
  feedback?: string;
  /** Size of the one huge line in the file, 0 when there is none. */
  hugeLineMb: number;
}

const labelSets: readonly (readonly string[])[] = [
  ['neg', 'neu', 'pos', 'q'],
  ['neg', 'pos'],
  ['0', '1'],
  ['constructor', '__proto__', 'toString'],
];
const fieldPairs: readonly (readonly [string, string])[] = [
  ['text', 'label'],
  ['message', 'sentiment'],
  ['__proto__', 'constructor'],
];

const words = ['อร่อย', 'มาก', 'ไม่', 'ชอบ', 'ร้าน', 'นี้', 'ส่ง', 'ของ', 'ช้า', 'good', 'bad', 'price', 'ok', '😀', 'ค่ะ', 'ครับ', '"quoted"', 'a,b', 'x\ty'];
const sentence = fc.array(fc.constantFrom(...words), { minLength: 1, maxLength: 6 }).map((w) => w.join(' '));
const text = fc.oneof({ weight: 4, arbitrary: sentence }, { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }) });

/** What a person meant by a label and what they typed instead. */
function typos(label: string): string[] {
  return [
    `${label} `,
    ` ${label}`,
    label.toUpperCase(),
    label.charAt(0).toUpperCase() + label.slice(1),
    `${label}itive`,
    `${label}s`,
    label.slice(0, -1) || 'x',
    `"${label}"`,
  ];
}

const wrongTypes: unknown[] = [null, true, 0, 1.5, Number.MAX_VALUE, -0, [], ['pos'], {}, { label: 'pos' }, ''];

/** Texts of rows that should be kept, before their labels are chosen; sometimes too few for every label. */
const goodTexts = fc.oneof(
  { weight: 1, arbitrary: fc.array(text, { maxLength: 6 }) },
  { weight: 4, arbitrary: fc.array(text, { minLength: 8, maxLength: 60 }) },
);

type Row = Record<string, unknown>;
type BadRow = { row: Row } | { line: FileLine };

function badRow(labels: readonly string[], textField: string, labelField: string): fc.Arbitrary<BadRow> {
  const label = fc.constantFrom(...labels);
  const r = (entries: [string, unknown][]) => ({ row: ownObject(entries) });
  return fc.oneof(
    fc
      .tuple(
        text,
        label.chain((l) => fc.constantFrom(...typos(l))),
      )
      .map(([t, l]) =>
        r([
          [textField, t],
          [labelField, l],
        ]),
      ),
    fc.tuple(fc.constantFrom(...wrongTypes), label).map(([t, l]) =>
      r([
        [textField, t],
        [labelField, l],
      ]),
    ),
    fc.tuple(text, fc.constantFrom(...wrongTypes)).map(([t, l]) =>
      r([
        [textField, t],
        [labelField, l],
      ]),
    ),
    fc.tuple(text, label).map(([t, l]) =>
      r([
        ['txt', t],
        [labelField, l],
      ]),
    ),
    fc.tuple(text, fc.constantFrom(...pollutingKeys)).map(([t, l]) =>
      r([
        [textField, t],
        [labelField, l],
      ]),
    ),
    fc.tuple(text, label).map(([t]) => r([[textField, t]])),
    fc.tuple(fc.constantFrom('', '   ', '\u200b', '\ufeff\u200b', '\n\t'), label).map(([t, l]) =>
      r([
        [textField, t],
        [labelField, l],
      ]),
    ),
    fc.tuple(text, label, fc.constantFrom(...pollutingKeys)).map(([t, l, k]) =>
      r([
        [k, { polluted: true }],
        [textField, t],
        [labelField, l],
      ]),
    ),
    fc.tuple(nastyString, label).map(([t, l]) =>
      r([
        [textField, t],
        [labelField, l],
      ]),
    ),
    // Broken lines: not JSON, not an object, stray quotes, NUL bytes, bytes that are no UTF-8.
    fc.constantFrom<BadRow>(
      { line: { text: '{"text": "ส่งช้า", "label": "neg"' } },
      { line: { text: '[1, 2, 3]' } },
      { line: { text: `{"${textField}": "ใหญ่เกิน", "${labelField}": 1e400}` } },
      { line: { text: '"just a string"' } },
      { line: { text: 'null' } },
      { line: { text: '"unclosed, pos' } },
      { line: { text: '"closed" then, pos' } },
      { line: { text: 'a,b,c,d' } },
      { line: { text: 'x\u0000y,pos' } },
      { line: { text: '' } },
      { line: { text: '   ' } },
      { line: { bytes: Uint8Array.from([0xff, 0xfe, 0x41, 0x0d]) } },
      { line: { bytes: Uint8Array.from([0x7b, 0x22, 0x74, 0x65, 0x78, 0x74, 0x22, 0x3a, 0x22, 0xc3, 0x22, 0x7d]) } },
      { line: { bytes: Uint8Array.from([0xc0, 0xaf, 0xed, 0xa0, 0x80]) } },
      { line: { bytes: Uint8Array.from([0x63, 0x61, 0x66, 0xe9, 0x2c, 0x70, 0x6f, 0x73]) } },
    ),
  );
}

function csvField(v: unknown, quoteAnyway: boolean): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return quoteAnyway || /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function renderRows(rows: BadRow[], written: 'jsonl' | 'csv', header: string[], quoteAnyway: boolean): FileLine[] {
  return rows.map((b) => {
    if ('line' in b) return b.line;
    if (written === 'jsonl') return { text: JSON.stringify(b.row) };
    return { text: header.map((h) => csvField(Object.hasOwn(b.row, h) ? b.row[h] : '', quoteAnyway)).join(',') };
  });
}

/** A whole dataset case: spec fields, the file's lines, its encoding, maybe a feedback file. */
export const datasetCase: fc.Arbitrary<DatasetCase> = fc
  .record({ labels: fc.constantFrom(...labelSets), fields: fc.constantFrom(...fieldPairs), written: fc.constantFrom('jsonl' as const, 'csv' as const) })
  .chain(({ labels, fields: [textField, labelField], written }) => {
    const good = [textField, labelField];
    // Good headers most often, so that enough files get far enough to test the rows.
    const headers = [
      good,
      good,
      good,
      [labelField, textField],
      [textField, labelField, 'extra'],
      [textField],
      [textField, textField],
      [`"${textField}`, labelField],
      [],
    ];
    return fc
      .record({
        good: goodTexts,
        bad: fc.array(badRow(labels, textField, labelField), { maxLength: 15 }),
        // A several-megabyte line (a pasted document, a file with no newlines), in one case of 16: they are slow.
        huge: fc.oneof({ weight: 15, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 4 }) }),
        order: fc.array(fc.nat(), { maxLength: 60 }),
        repeats: fc.array(fc.tuple(fc.nat(), fc.boolean()), { maxLength: 4 }),
        header: fc.constantFrom(...headers),
        quoteAnyway: fc.boolean(),
        encoding: fc.oneof(
          { weight: 6, arbitrary: fc.constant<Encoding>('utf8') },
          { weight: 5, arbitrary: fc.constantFrom<Encoding>('utf8-bom', 'utf16le-bom', 'utf16be-bom', 'utf16le', 'latin1') },
        ),
        eol: fc.constantFrom('\n' as const, '\r\n' as const),
        naming: fc.constantFrom('matching', 'matching', 'matching', 'matching', 'explicit', 'explicit', 'mismatched', 'unknown-extension'),
        whole: fc.oneof(
          { weight: 11, arbitrary: fc.constant(null) },
          { weight: 1, arbitrary: fc.oneof(fc.constant(new Uint8Array()), fc.uint8Array({ minLength: 1, maxLength: 4_000 })) },
        ),
        feedback: fc.oneof(
          { weight: 3, arbitrary: fc.constant(null) },
          { weight: 1, arbitrary: fc.array(fc.tuple(text, fc.constantFrom(...labels, 'positive', 'Neg ')), { maxLength: 10 }) },
        ),
      })
      .map((c): DatasetCase => {
        const good: BadRow[] = c.good.map((t, i) => ({
          row: ownObject([
            [textField, `${t} ${i}`],
            [labelField, labels[i % labels.length]!],
          ]),
        }));
        // Repeats: the same text again, with the same label (a duplicate) or another (a contradiction).
        const repeats: BadRow[] = good.length
          ? c.repeats.map(([i, same]) => {
              const { row } = good[i % good.length] as { row: Row };
              const other = labels[(labels.indexOf(row[labelField] as string) + 1) % labels.length]!;
              return {
                row: ownObject([
                  [textField, row[textField]],
                  [labelField, same ? row[labelField] : other],
                ]),
              };
            })
          : [];
        const huge: BadRow[] = c.huge
          ? [
              {
                row: ownObject([
                  [textField, 'ยาว'.repeat(c.huge * 120_000)],
                  [labelField, labels[0]],
                ]),
              },
            ]
          : [];
        const rows = [...good, ...c.bad, ...repeats, ...huge];
        // Shuffle by the generated keys, so bad rows land anywhere, the first line included.
        const keyed = rows.map((r, i) => [c.order[i] ?? i, i, r] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
        const body = renderRows(
          keyed.map(([, , r]) => r),
          written,
          c.header.length ? c.header : [textField, labelField],
          c.quoteAnyway,
        );
        const lines = written === 'csv' && c.header.length ? [{ text: c.header.join(',') }, ...body] : body;
        const ext = { matching: `.${written}`, explicit: '.data', mismatched: written === 'csv' ? '.jsonl' : '.csv', 'unknown-extension': '.txt' }[c.naming];
        return {
          labels: [...labels],
          textField,
          labelField,
          fileName: `data${ext}`,
          ...(c.naming === 'explicit' && { format: written }),
          written,
          encoding: c.encoding,
          eol: c.eol,
          lines,
          hugeLineMb: c.huge,
          ...(c.whole !== null && { whole: c.whole }),
          ...(c.feedback !== null && { feedback: c.feedback.map(([t, l]) => JSON.stringify({ text: t, label: l })).join('\n') + '\n' }),
        };
      });
  });

/** The bytes of a case's data file. */
export function fileBytes(c: DatasetCase): Buffer {
  if (c.whole) return Buffer.from(c.whole);
  const lineBytes = (l: FileLine) => ('text' in l ? Buffer.from(l.text, 'utf8') : Buffer.from(l.bytes));
  const joined = Buffer.concat(c.lines.flatMap((l, i) => (i ? [Buffer.from(c.eol), lineBytes(l)] : [lineBytes(l)])).concat(Buffer.from(c.eol)));
  switch (c.encoding) {
    case 'utf8':
      return joined;
    case 'utf8-bom':
      return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), joined]);
    case 'latin1':
      // What a Windows-1252 export does to text: one byte per character, the rest lost.
      return Buffer.from(joined.toString('utf8'), 'latin1');
    case 'utf16le':
    case 'utf16le-bom': {
      const body = Buffer.from(joined.toString('utf8'), 'utf16le');
      return c.encoding === 'utf16le-bom' ? Buffer.concat([Buffer.from([0xff, 0xfe]), body]) : body;
    }
    case 'utf16be-bom': {
      const body = Buffer.from(joined.toString('utf8'), 'utf16le').swap16();
      return Buffer.concat([Buffer.from([0xfe, 0xff]), body]);
    }
  }
}

/**
 * Lines the reader must account for (records + blank lines) when the file is UTF-8 JSONL read
 * as JSONL: simply its line breaks. Undefined where that does not hold: other encodings
 * (Latin-1 turns Thai U+0E0A into a 0x0A byte), or a first line that reads as a UTF-16 BOM.
 */
export function expectedJsonlLines(c: DatasetCase, bytes: Buffer): number | undefined {
  const readAs = c.format ?? (c.fileName.endsWith('.jsonl') ? 'jsonl' : c.fileName.endsWith('.csv') ? 'csv' : undefined);
  const utf16Bom = (bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff);
  if (c.whole || readAs !== 'jsonl' || !['utf8', 'utf8-bom'].includes(c.encoding) || utf16Bom) return undefined;
  return c.lines.length;
}
