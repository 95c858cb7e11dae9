import { describe, expect, it } from 'vitest';
import { CsvReader, parseCsv } from './csv';

const fields = (text: string) => parseCsv(text).map((r) => r.fields);

describe('parseCsv (RFC 4180)', () => {
  it('reads plain fields, empty fields and a missing final newline', () => {
    expect(fields('text,label\nดีมาก,pos\n,neu\na,')).toEqual([
      ['text', 'label'],
      ['ดีมาก', 'pos'],
      ['', 'neu'],
      ['a', ''],
    ]);
  });

  it('reads quoted fields with commas, doubled quotes and line breaks', () => {
    const csv = 'text,label\n"ราคา 1,200 บาท ""แพง""",neg\n"บรรทัดแรก\nบรรทัดสอง, ยังอยู่",neu\n"",q\n';
    const records = parseCsv(csv);
    expect(records.map((r) => r.fields)).toEqual([
      ['text', 'label'],
      ['ราคา 1,200 บาท "แพง"', 'neg'],
      ['บรรทัดแรก\nบรรทัดสอง, ยังอยู่', 'neu'],
      ['', 'q'],
    ]);
    expect(records.map((r) => r.line)).toEqual([1, 2, 3, 5]);
    expect(records[2]!.raw).toBe('"บรรทัดแรก\nบรรทัดสอง, ยังอยู่",neu');
  });

  it('accepts CRLF line ends, also inside quoted fields', () => {
    expect(fields('text,label\r\n"a\r\nb",pos\r\nc,neg\r\n')).toEqual([
      ['text', 'label'],
      ['a\nb', 'pos'],
      ['c', 'neg'],
    ]);
  });

  it('keeps a quote inside an unquoted field as a character', () => {
    expect(fields('จอ 5" นิ้ว,neu')).toEqual([['จอ 5" นิ้ว', 'neu']]);
  });

  it('flags text after a closing quote, and carries on with the next record', () => {
    const records = parseCsv('"a"b,pos\nc,neg\n');
    expect(records[0]!.error).toMatch(/unexpected "b" after the closing quote of field 1/);
    expect(records[1]).toEqual({ line: 2, fields: ['c', 'neg'], raw: 'c,neg' });
  });

  it('flags a quote that is never closed, at the end', () => {
    const records = parseCsv('text,label\n"open,pos\nmore\n');
    expect(records).toHaveLength(2);
    expect(records[1]).toMatchObject({ line: 2, error: 'a quoted field opened on line 2 is never closed', raw: '"open,pos\nmore' });
  });

  it('streams: a record is returned by the line that completes it', () => {
    const reader = new CsvReader();
    expect(reader.pushLine('"multi')).toBeUndefined();
    expect(reader.pushLine('line",pos')).toEqual({ line: 1, fields: ['multi\nline', 'pos'], raw: '"multi\nline",pos' });
    expect(reader.pushLine('x,y')?.line).toBe(3);
    expect(reader.end()).toBeUndefined();
  });
});
