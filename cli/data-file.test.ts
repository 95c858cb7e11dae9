// Files named on the command line get messages about the flag that named them, not a spec's fields.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CliError } from './cli-error';
import { readCliDataFile } from './data-file';

const dir = mkdtempSync(path.join(tmpdir(), 'mlc-data-file-'));

describe('readCliDataFile (mlc evaluate --data, mlc feedback FILE)', () => {
  it('reads JSONL or CSV by the extension', async () => {
    writeFileSync(path.join(dir, 'gold.csv'), 'text,label\nดีมาก,pos\n');
    const { format, rows } = await readCliDataFile(path.join(dir, 'gold.csv'), 'gold.csv');
    expect([format, rows.map((r) => r.record)]).toEqual(['csv', [{ text: 'ดีมาก', label: 'pos' }]]);
  });

  it('words a missing file or an unknown extension for the flag, with exit code 2', async () => {
    writeFileSync(path.join(dir, 'gold.txt'), 'ดีมาก\n');
    const failure = (file: string) =>
      readCliDataFile(path.join(dir, file), `--data ${file}`).then(
        () => null,
        (e: unknown) => e as CliError,
      );
    for (const [file, message] of [
      ['gold.txt', '--data gold.txt: cannot tell JSONL from CSV by the extension ".txt"; name the file .jsonl or .csv'],
      ['missing.jsonl', '--data missing.jsonl: no such file'],
    ]) {
      const error = await failure(file!);
      expect([error instanceof CliError, error?.message, error?.exitCode]).toEqual([true, message, 2]);
    }
  });
});
