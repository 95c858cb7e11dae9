// Property tests for cleaning, splitting and reporting on any records a reader can produce,
// and the counterexamples the preprocess property (activities/preprocess.fuzz.test.ts) found,
// kept as plain tests.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fuzzSeed, fuzzTimeoutMs, nastyJson, ownObject, pollutingKeys, shown } from '../test/fuzz/arbitraries';
import { assertTrainable, cleanRows, DatasetError, dataReport, quarantineReasons, stratifiedSplit, type RawRow } from './dataset';

const labelSets = [
  ['neg', 'pos'],
  ['constructor', '__proto__'],
  ['0', '1', '2'],
];
const fieldNames = ['text', 'label', ...pollutingKeys];

/** Records as a reader makes them: objects with any fields (own "__proto__" included), or parse errors. */
const rawRow = (textField: string, labelField: string, labels: string[]): fc.Arbitrary<RawRow> =>
  fc.oneof(
    fc.record({ line: fc.nat(), parseError: fc.constantFrom('invalid JSON: Unexpected end of JSON input', 'expected a JSON object, got an array') }),
    fc
      .tuple(
        fc.nat(),
        fc.oneof(fc.string(), nastyJson),
        fc.oneof(fc.constantFrom(...labels, ...pollutingKeys, ' pos', 'Neg'), nastyJson),
        fc.boolean(),
        fc.boolean(),
      )
      .map(([line, text, label, hasText, hasLabel]) => ({
        line,
        record: ownObject([...(hasText ? [[textField, text] as const] : []), ...(hasLabel ? [[labelField, label] as const] : [])]),
      })),
  );

describe('cleanRows, stratifiedSplit and dataReport on any records (property)', () => {
  it(
    'every record is kept, quarantined with a reason, or counted as a duplicate; the splits hold exactly the kept rows',
    () => {
      const input = fc
        .record({ labels: fc.constantFrom(...labelSets), textField: fc.constantFrom(...fieldNames), labelField: fc.constantFrom(...fieldNames) })
        .filter((o) => o.textField !== o.labelField)
        .chain((o) => fc.record({ o: fc.constant(o), rows: fc.array(rawRow(o.textField, o.labelField, o.labels), { maxLength: 40 }) }));
      fc.assert(
        fc.property(shown(input), ({ value: { o, rows } }) => {
          const cleaned = cleanRows(rows, o);
          expect(cleaned.rows.length + cleaned.quarantined.length + cleaned.duplicatesRemoved).toBe(rows.length);
          for (const q of cleaned.quarantined) {
            expect(quarantineReasons).toContain(q.reason);
            expect(q.detail.trim()).not.toBe('');
          }
          for (const n of Object.values(cleaned.unknownLabels)) expect(Number.isInteger(n)).toBe(true);
          for (const r of cleaned.rows) expect(o.labels).toContain(r.label);

          const splits = stratifiedSplit(cleaned.rows, { validFraction: 0.1, testFraction: 0.2, seed: 7 });
          expect([...splits.train, ...splits.valid, ...splits.test].map((r) => r.text).sort()).toEqual(cleaned.rows.map((r) => r.text).sort());
          const report = dataReport(cleaned, splits, o.labels);
          expect(report.input).toBe(rows.length);
          try {
            assertTrainable(cleaned, o.labels, { ...o, path: 'data.jsonl' });
          } catch (e) {
            expect(e).toBeInstanceOf(DatasetError);
            expect((e as Error).message).toContain('in data.jsonl');
          }
        }),
        { numRuns: 500, seed: fuzzSeed },
      );
    },
    fuzzTimeoutMs,
  );
});

describe('counterexamples found by the preprocess property', () => {
  it('a record without the "constructor" field is missing it, not "a function" (inherited from Object)', () => {
    const { quarantined } = cleanRows([{ line: 1, record: JSON.parse('{"__proto__": "อร่อย"}') as Record<string, unknown> }], {
      labels: ['neg', 'pos'],
      textField: '__proto__',
      labelField: 'constructor',
    });
    expect(quarantined).toMatchObject([{ reason: 'missing_field', detail: 'missing "constructor" (fields present: __proto__)' }]);
  });

  it('an unknown label named like an Object property is counted, not concatenated onto Object', () => {
    const rows = ['constructor', 'toString', '__proto__', 'constructor'].map((label, i) => ({ line: i + 1, record: { text: `t${i}`, label } }));
    const { unknownLabels } = cleanRows(rows, { labels: ['neg', 'pos'], textField: 'text', labelField: 'label' });
    expect(unknownLabels).toEqual(
      ownObject([
        ['constructor', 2],
        ['toString', 1],
        ['__proto__', 1],
      ]),
    );
    expect(JSON.parse(JSON.stringify(unknownLabels))).toEqual(JSON.parse('{"constructor": 2, "toString": 1, "__proto__": 1}'));
  });

  it('an empty file is refused naming the file', () => {
    const cleaned = cleanRows([], { labels: ['neg', 'pos'], textField: 'text', labelField: 'label' });
    expect(() => assertTrainable(cleaned, ['neg', 'pos'], { textField: 'text', labelField: 'label', path: 'data/train.jsonl' })).toThrow(
      /^No usable rows in data\/train\.jsonl: all 0 input rows were quarantined or duplicates \(the file is empty\)\.\nCheck data\.format/,
    );
  });
});
