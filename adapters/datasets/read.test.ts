import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatasetError } from '../../domain/dataset';
import { DatasetNotFoundError, readDataset, readDatasetRows, readLines } from './read';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mlc-read-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, content: string | Buffer): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, content);
  return p;
}

describe('readDataset (JSONL)', () => {
  it('turns each line into a record or a parse error, and counts blank lines', async () => {
    const p = await file('a.jsonl', '{"text":"ดี","label":"pos"}\n\n{"text":\n[1]\n  \n42\n{"text":"ท้าย","label":"neu"}');
    const { rows, blankLines, format } = await readDataset(p);
    expect(format).toBe('jsonl');
    expect(blankLines).toBe(2);
    expect(rows.map((r) => r.line)).toEqual([1, 3, 4, 6, 7]);
    expect(rows[0]).toEqual({ line: 1, raw: '{"text":"ดี","label":"pos"}', record: { text: 'ดี', label: 'pos' } });
    expect(rows[1]!.parseError).toMatch(/^invalid JSON/);
    expect(rows[2]!.parseError).toBe('expected a JSON object, got an array');
    expect(rows[3]!.parseError).toBe('expected a JSON object, got a number');
    expect(rows[4]!.record).toEqual({ text: 'ท้าย', label: 'neu' });
  });

  it('skips a UTF-8 BOM and strips CR from CRLF files', async () => {
    const p = await file(
      'bom.jsonl',
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"text":"a","label":"pos"}\r\n{"text":"b","label":"neg"}\r\n')]),
    );
    const { rows } = await readDataset(p);
    expect(rows.map((r) => r.record)).toEqual([
      { text: 'a', label: 'pos' },
      { text: 'b', label: 'neg' },
    ]);
  });

  it('reads UTF-16 files that carry a BOM', async () => {
    const text = '{"text":"สวัสดี","label":"neu"}\r\n{"text":"x","label":"q"}\n';
    const p = await file('u16.jsonl', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
    const { rows } = await readDataset(p);
    expect(rows.map((r) => r.record)).toEqual([
      { text: 'สวัสดี', label: 'neu' },
      { text: 'x', label: 'q' },
    ]);
  });

  it('marks a line that is not UTF-8 (here TIS-620 Thai) without losing the others', async () => {
    const tis620 = Buffer.from([0x7b, 0x22, 0x74, 0x65, 0x78, 0x74, 0x22, 0x3a, 0x22, 0xb4, 0xd5, 0x22, 0x7d]); // {"text":"ดี"}
    const p = await file('mixed.jsonl', Buffer.concat([Buffer.from('{"text":"ok","label":"pos"}\n'), tis620, Buffer.from('\n{"text":"ok2","label":"neg"}\n')]));
    const { rows } = await readDataset(p);
    expect(rows).toHaveLength(3);
    expect(rows[1]!.parseError).toMatch(/line 2 is not valid UTF-8.*TIS-620/);
    expect(rows[2]!.record).toEqual({ text: 'ok2', label: 'neg' });
  });

  it('splits lines correctly across stream chunks (multi-byte Thai on the boundary)', async () => {
    const lines = Array.from({ length: 5000 }, (_, i) => JSON.stringify({ text: `ข้อความภาษาไทย ${i} ${'ก'.repeat(i % 50)}`, label: 'neu' }));
    const p = await file('big.jsonl', lines.join('\n') + '\n');
    const seen: string[] = [];
    for await (const line of readLines(p)) {
      expect(line.invalidUtf8).toBe(false);
      seen.push(line.text);
    }
    expect(seen).toEqual(lines);
  });

  it('throws DatasetNotFoundError naming the path and data.path', async () => {
    const missing = join(dir, 'nope.jsonl');
    const err = await readDataset(missing).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatasetNotFoundError);
    expect(err).toBeInstanceOf(DatasetError);
    expect((err as DatasetNotFoundError).path).toBe(missing);
    expect((err as Error).message).toContain(missing);
    expect((err as Error).message).toContain('data.path');
  });

  it('says so when data.path is a folder', async () => {
    await expect(readDataset(dir, 'jsonl')).rejects.toThrow(/is not a file/);
  });

  it('asks for data.format when the extension says nothing', async () => {
    const p = await file('data.txt', '{"text":"a","label":"pos"}\n');
    await expect(readDataset(p)).rejects.toThrow(/data\.format/);
    expect((await readDataset(p, 'jsonl')).rows).toHaveLength(1);
  });
});

describe('readDataset (CSV)', () => {
  it('maps columns by header, keeps quoted commas and newlines, and reports field-count errors', async () => {
    const p = await file('a.csv', '\ufefftext,label\r\n"สวัสดี, ครับ",neu\r\n"หลาย\r\nบรรทัด ""quoted""",pos\r\n\r\nno,label,extra\r\n"bad"x,neg\r\n');
    const { rows, blankLines, format } = await readDataset(p);
    expect(format).toBe('csv');
    expect(blankLines).toBe(1);
    expect(rows.map((r) => r.line)).toEqual([2, 3, 6, 7]);
    expect(rows[0]!.record).toEqual({ text: 'สวัสดี, ครับ', label: 'neu' });
    expect(rows[1]!.record).toEqual({ text: 'หลาย\nบรรทัด "quoted"', label: 'pos' });
    expect(rows[1]!.raw).toBe('"หลาย\nบรรทัด ""quoted""",pos');
    expect(rows[2]!.parseError).toMatch(/expected 2 fields \(text, label\), got 3/);
    expect(rows[3]!.parseError).toMatch(/after the closing quote/);
  });

  it('reports an unclosed quote as the last record', async () => {
    const p = await file('open.csv', 'text,label\nok,pos\n"never closed,neg\nmore text\n');
    const rows = [];
    for await (const r of readDatasetRows(p)) rows.push(r);
    expect(rows.map((r) => [r.line, r.parseError])).toEqual([
      [2, undefined],
      [3, 'a quoted field opened on line 3 is never closed'],
    ]);
  });

  it('refuses a header that names a column twice', async () => {
    const p = await file('dup.csv', 'text,text\na,b\n');
    await expect(readDataset(p)).rejects.toThrow(/column "text" appears twice/);
  });

  it('reads a CSV given format "csv" whatever its extension', async () => {
    const p = await file('export.tsv.txt', 'text,label\na,pos\n');
    expect((await readDataset(p, 'csv')).rows[0]!.record).toEqual({ text: 'a', label: 'pos' });
  });
});
