// Property test for the dataset reader on any bytes, as JSONL and as CSV: it yields records or
// rows with a parse error, and throws nothing but a DatasetError (for a file that cannot be
// used at all). The activity-level property is in activities/preprocess.fuzz.test.ts; this one
// is cheap enough to push many more odd files through the reader alone.
import fc from 'fast-check';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatasetError } from '../../domain/dataset';
import { fuzzSeed, fuzzTimeoutMs, shown } from '../../test/fuzz/arbitraries';
import { datasetCase, fileBytes } from '../../test/fuzz/datasets';
import { readDataset } from './read';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mlc-read-fuzz-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const bytes = fc.oneof(
  { weight: 3, arbitrary: datasetCase.filter((c) => c.hugeLineMb === 0).map((c) => fileBytes(c)) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 3_000 }).map((b) => Buffer.from(b)) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 500 }).map((s) => Buffer.from(s, 'utf16le')) },
);

describe('readDataset on any bytes (property)', () => {
  it(
    'records, or rows with a parse error; a DatasetError naming the file only when it is unusable',
    async () => {
      let n = 0;
      await fc.assert(
        fc.asyncProperty(shown(bytes), fc.constantFrom('jsonl' as const, 'csv' as const), async ({ value }, format) => {
          const file = path.join(dir, `f-${n++}.${format}`);
          await writeFile(file, value);
          const read = await readDataset(file, format, 'the-file').catch((e: unknown) => e);
          if (read instanceof Error) {
            expect(read).toBeInstanceOf(DatasetError);
            expect(read.message).toContain(file);
            return;
          }
          const { rows, blankLines } = read as Awaited<ReturnType<typeof readDataset>>;
          expect(blankLines).toBeGreaterThanOrEqual(0);
          for (const row of rows) {
            expect(row.line).toBeGreaterThanOrEqual(1);
            expect(row.source).toBe('the-file');
            expect((row.record === undefined) !== (row.parseError === undefined)).toBe(true);
            if (row.parseError !== undefined) expect(row.parseError.trim()).not.toBe('');
          }
        }),
        { numRuns: 300, seed: fuzzSeed },
      );
    },
    fuzzTimeoutMs,
  );
});

describe('counterexamples found by the preprocess property', () => {
  const rows = Array.from({ length: 4 }, (_, i) => ({ text: `ข้อความ ${i}`, label: i % 2 ? 'pos' : 'neg' }));

  it('a UTF-16 CSV without its byte-order mark is refused at the header, saying so, not read as odd column names', async () => {
    const file = path.join(dir, 'u16.csv');
    await writeFile(file, Buffer.from(`text,label\r\n${rows.map((r) => `${r.text},${r.label}`).join('\r\n')}\r\n`, 'utf16le'));
    await expect(readDataset(file)).rejects.toThrow(
      new DatasetError(
        `The CSV header of ${file} contains NUL bytes: the file is binary, or UTF-16 without a byte-order mark (convert with \`iconv -f UTF-16LE -t UTF-8\`).`,
        'Save the file as UTF-8 and start again.',
      ),
    );
  });

  it('each line of a UTF-16 JSONL file without its byte-order mark says why it cannot be read', async () => {
    const file = path.join(dir, 'u16.jsonl');
    await writeFile(file, Buffer.from(rows.map((r) => JSON.stringify(r)).join('\n') + '\n', 'utf16le'));
    const { rows: read } = await readDataset(file);
    expect(read.length).toBeGreaterThanOrEqual(rows.length);
    for (const r of read) expect(r.parseError).toMatch(/^line \d+ contains NUL bytes: the file is binary, or UTF-16 without a byte-order mark/);
  });
});
