import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  assertTrainable,
  canonicalDataset,
  cleanRows,
  dataReport,
  DatasetError,
  hash53,
  normalizeText,
  stratifiedSplit,
  type CleanResult,
  type RawRow,
  type Row,
} from './dataset';

const labels = ['pos', 'neu', 'neg', 'q'];
const opts = { labels, textField: 'text', labelField: 'label' };
const rec = (line: number, record: Record<string, unknown>): RawRow => ({ line, record, raw: JSON.stringify(record) });
const accounted = (r: CleanResult) => r.rows.length + r.quarantined.length + r.duplicatesRemoved;

describe('normalizeText', () => {
  it('reorders a Thai tone mark typed before a below-vowel (NFC)', () => {
    const typed = '\u0e2d\u0e22\u0e48\u0e39'; // อ ย ่ ู
    expect(typed).not.toBe('อยู่');
    expect(normalizeText(typed)).toBe('อยู่');
  });
  it('collapses whitespace runs, NBSP, tabs and newlines, and trims', () => {
    expect(normalizeText('  ร้าน\u00a0\u00a0นี้\t\tดี\r\nมาก \u3000')).toBe('ร้าน นี้ ดี มาก');
  });
  it('removes ZWSP and a stray BOM but keeps ZWJ, so emoji sequences survive', () => {
    expect(normalizeText('กิน\u200bข้าว\u200b ยัง\ufeff')).toBe('กินข้าว ยัง');
    const family = '👨\u200d👩\u200d👧';
    expect(normalizeText(family)).toBe(family);
  });
  it('leaves Thai characters alone: sara am, mai yamok, Thai digits', () => {
    for (const s of ['น้ำ', 'ดีๆ', '๑๒๓', 'กำลัง']) expect(normalizeText(s)).toBe(s);
    expect(normalizeText('\u0e19\u0e49\u0e4d\u0e32')).toBe('\u0e19\u0e49\u0e4d\u0e32'); // decomposed sara am: NFKC's business, not ours
  });
  it('is idempotent', () => {
    const s = '  a\u200b \u00a0b\u0e48\u0e39 ';
    expect(normalizeText(normalizeText(s))).toBe(normalizeText(s));
  });
  it('folds laughter (5555…, ๕๕๕…, ถถถ typed on the Thai layout) to 555, but not a number ending in 555', () => {
    expect(normalizeText('ตลกมาก 5555555')).toBe('ตลกมาก 555');
    expect(normalizeText('ถถถถถ')).toBe('555');
    expect(normalizeText('๕๕๕๕')).toBe('555');
    expect(normalizeText('ถถถ55 555ถูกมาก')).toBe('555 555ถูกมาก'); // ถูก is a word, not laughter
    expect(normalizeText('ราคา 1555 บาท โทร 0815555555')).toBe('ราคา 1555 บาท โทร 0815555555');
    expect(normalizeText('55 ก็ขำ')).toBe('55 ก็ขำ');
  });
  it('writes the repetition mark ๆ once and against its word', () => {
    expect(normalizeText('ดี ๆ ๆ ครับ')).toBe('ดีๆ ครับ');
    expect(normalizeText('สู้ๆนะผมๆๆๆๆ')).toBe('สู้ๆนะผมๆ');
  });
  it('shortens a character or emoji repeated four times or more to three, digits aside', () => {
    expect(normalizeText('อร่อยมากกกกกก!!!!!!')).toBe('อร่อยมากกก!!!');
    expect(normalizeText('มากก มากกก')).toBe('มากก มากกก'); // up to three: left as typed
    expect(normalizeText('😍😍😍😍😍 ❤️❤️❤️❤️ 👍🏻👍🏻👍🏻👍🏻')).toBe('😍😍😍 ❤️❤️❤️ 👍🏻👍🏻👍🏻');
    expect(normalizeText('1000000 ๑๑๑๑๑')).toBe('1000000 ๑๑๑๑๑');
  });
  it('is idempotent on any mix of the characters the folds act on', () => {
    const chars = [...'5๕ถๆ กา่้ะ1๑!', '\u00a0', '\t', '\u200b', '\ufeff', '😍', '❤', '\ufe0f', '👍', '🏻', '\u0301'];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...chars), { maxLength: 30 }), (parts) => {
        const once = normalizeText(parts.join(''));
        expect(normalizeText(once)).toBe(once);
      }),
      { numRuns: 2000, seed: 10 },
    );
  });
});

describe('cleanRows', () => {
  it('sorts each row into kept, quarantined or duplicate, and accounts for every one', () => {
    const input: RawRow[] = [
      rec(1, { text: 'ดีมาก', label: 'pos' }),
      { line: 2, raw: '{"text": ', parseError: 'invalid JSON' },
      rec(3, { text: '', label: 'neu' }),
      rec(4, { text: ' \u200b\u00a0', label: 'neu' }),
      rec(5, { text: 'แย่', label: 'NEG' }),
      rec(6, { text: 'ไม่มีป้าย' }),
      rec(7, { text: 42, label: 'pos' }),
      rec(8, { text: 'ดีมาก ', label: 'pos' }),
      rec(9, { text: 'เท่าไหร่', label: 'q' }),
      rec(10, { text: 'เท่าไหร่', label: 'neu' }),
      rec(11, { text: 'ราคา', label: 1 }),
      rec(12, { text: 'ส่งช้า', label: ' neg ' }),
      rec(13, { text: 'ไม่มีค่า', label: ' ' }),
    ];
    const r = cleanRows(input, opts);
    expect(accounted(r)).toBe(input.length);
    expect(r.rows).toEqual([
      { text: 'ดีมาก', label: 'pos' },
      { text: 'ส่งช้า', label: 'neg' },
    ]);
    expect(r.duplicatesRemoved).toBe(1);
    expect(r.quarantined.map((q) => [q.line, q.reason])).toEqual([
      [2, 'malformed'],
      [3, 'empty_text'],
      [4, 'empty_text'],
      [5, 'unknown_label'],
      [6, 'missing_field'],
      [7, 'malformed'],
      [9, 'conflicting_label'],
      [10, 'conflicting_label'],
      [11, 'unknown_label'],
      [13, 'missing_field'],
    ]);
    expect(r.unknownLabels).toEqual({ NEG: 1, '1': 1 });
  });

  it('explains each quarantine in words a data analyst can act on', () => {
    const r = cleanRows(
      [
        rec(1, { text: 'แย่', label: 'NEG' }),
        rec(2, { message: 'x', sentiment: 'pos' }),
        rec(3, { text: 'เท่าไหร่', label: 'q' }),
        rec(4, { text: 'เท่าไหร่', label: 'neu' }),
        { line: 5, raw: '{"a":1', parseError: 'invalid JSON: Unexpected end' },
      ],
      opts,
    );
    const detail = (line: number) => r.quarantined.find((q) => q.line === line)!.detail;
    expect(detail(1)).toContain('did you mean "neg"?');
    expect(detail(2)).toBe('missing "text" and "label" (fields present: message, sentiment)');
    expect(detail(3)).toBe('the same text is labelled differently: q (line 3), neu (line 4)');
    expect(r.quarantined.find((q) => q.line === 5)!.raw).toBe('{"a":1');
  });

  it('treats texts equal after normalization as the same text', () => {
    const r = cleanRows(
      [rec(1, { text: '\u0e2d\u0e22\u0e48\u0e39', label: 'q' }), rec(2, { text: 'อยู่', label: 'q' }), rec(3, { text: 'อยู่\u200b', label: 'neu' })],
      opts,
    );
    expect(r.rows).toEqual([]);
    expect(r.quarantined.map((q) => q.reason)).toEqual(['conflicting_label', 'conflicting_label', 'conflicting_label']);
    expect(accounted(r)).toBe(3);
  });

  it('uses the configured field names and names the file in conflicts across sources', () => {
    const r = cleanRows(
      [
        { line: 1, source: 'train.jsonl', record: { message: 'ok', sentiment: 'pos' } },
        { line: 1, source: 'feedback.jsonl', record: { message: 'ok', sentiment: 'neg' } },
      ],
      { labels, textField: 'message', labelField: 'sentiment' },
    );
    expect(r.quarantined.map((q) => q.source)).toEqual(['train.jsonl', 'feedback.jsonl']);
    expect(r.quarantined[0]!.detail).toContain('pos (train.jsonl:1), neg (feedback.jsonl:1)');
  });
});

function corpus(counts: Record<string, number>): Row[] {
  return Object.entries(counts).flatMap(([label, n]) => Array.from({ length: n }, (_, i) => ({ text: `${label} ข้อความ ${i}`, label })));
}

describe('stratifiedSplit', () => {
  const split = { validFraction: 0.1, testFraction: 0.1, seed: 42 };

  it('keeps label proportions and puts every row in exactly one split', () => {
    const rows = corpus({ neu: 545, neg: 254, pos: 179, q: 22 });
    const s = stratifiedSplit(rows, split);
    expect(s.train.length + s.valid.length + s.test.length).toBe(1000);
    const count = (xs: Row[], l: string) => xs.filter((r) => r.label === l).length;
    expect(count(s.test, 'neu')).toBe(55);
    expect(count(s.valid, 'neg')).toBe(25);
    expect(count(s.test, 'q')).toBe(2);
    const all = [...s.train, ...s.valid, ...s.test].map((r) => r.text);
    expect(new Set(all).size).toBe(1000);
  });

  it('gives each label with ≥3 rows a row in every split; fewer go to train', () => {
    const s = stratifiedSplit(corpus({ neu: 100, q: 3, pos: 2, neg: 1 }), split);
    for (const name of ['train', 'valid', 'test'] as const) expect(s[name].some((r) => r.label === 'q')).toBe(true);
    expect(s.train.filter((r) => r.label === 'pos')).toHaveLength(2);
    expect(s.train.filter((r) => r.label === 'neg')).toHaveLength(1);
    // near-half fractions on 4 rows still leave one for training
    const tight = stratifiedSplit(corpus({ q: 4, neu: 4 }), { validFraction: 0.49, testFraction: 0.49, seed: 1 });
    expect(tight.train.filter((r) => r.label === 'q').length).toBeGreaterThanOrEqual(1);
  });

  it('is deterministic, independent of input order, and changes with the seed', () => {
    const rows = corpus({ neu: 200, neg: 80, q: 9 });
    const a = stratifiedSplit(rows, split);
    const b = stratifiedSplit([...rows].reverse(), split);
    expect(b).toEqual(a);
    expect(stratifiedSplit(rows, { ...split, seed: 43 }).test).not.toEqual(a.test);
  });

  it('mixes labels inside each split rather than grouping them', () => {
    const s = stratifiedSplit(corpus({ neu: 300, neg: 300 }), split);
    const firstHalf = s.train.slice(0, s.train.length / 2);
    expect(firstHalf.filter((r) => r.label === 'neu').length).toBeGreaterThan(60);
    expect(firstHalf.filter((r) => r.label === 'neg').length).toBeGreaterThan(60);
  });

  it('keeps a repeated text in one split once cleaned (corpus with repeats across would-be splits)', () => {
    const rows = corpus({ neu: 50, neg: 50, q: 10 });
    const raw: RawRow[] = [...rows, ...rows, ...rows.slice(0, 20)].map((r, i) => rec(i + 1, { ...r, text: i % 2 ? ` ${r.text}` : r.text }));
    const cleaned = cleanRows(raw, opts);
    expect(cleaned.duplicatesRemoved).toBe(130);
    const s = stratifiedSplit(cleaned.rows, split);
    const seen = new Map<string, string>();
    for (const name of ['train', 'valid', 'test'] as const) {
      for (const r of s[name]) {
        expect(seen.get(r.text), r.text).toBeUndefined();
        seen.set(r.text, name);
      }
    }
    expect(seen.size).toBe(110);
  });

  it('when feedback is added, moves no original test row into train', () => {
    const original = corpus({ neu: 545, neg: 254, pos: 179, q: 22 });
    const before = stratifiedSplit(original, split);
    const feedback = corpus({ neg: 160, q: 40 }).map((r) => ({ ...r, text: `fb ${r.text}` }));
    const after = stratifiedSplit([...original, ...feedback], split);
    const train = new Set(after.train.map((r) => r.text));
    expect(before.test.filter((r) => train.has(r.text))).toEqual([]);
  });

  it('refuses fractions that leave nothing to train on', () => {
    expect(() => stratifiedSplit([], { validFraction: 0.6, testFraction: 0.5, seed: 1 })).toThrow(RangeError);
  });
});

describe('canonicalDataset and hash53', () => {
  const s = { train: [{ text: 'a', label: 'pos' }], valid: [{ text: 'b', label: 'neu' }], test: [{ text: 'c', label: 'neu' }] };
  it('serializes labels and rows unambiguously', () => {
    expect(canonicalDataset(s, ['pos', 'neu'])).toBe(
      '{"format":"mlc-dataset/1","labels":["pos","neu"]}\n{"split":"train","rows":1}\n["a","pos"]\n{"split":"valid","rows":1}\n["b","neu"]\n{"split":"test","rows":1}\n["c","neu"]\n',
    );
    expect(canonicalDataset(s, ['neu', 'pos'])).not.toBe(canonicalDataset(s, ['pos', 'neu']));
    expect(canonicalDataset({ ...s, train: [{ text: 'a', label: 'neu' }] }, ['pos', 'neu'])).not.toBe(canonicalDataset(s, ['pos', 'neu']));
  });
  it('hash53 is stable and seeded', () => {
    expect(hash53('ร้านนี้', 42)).toBe(hash53('ร้านนี้', 42));
    expect(hash53('ร้านนี้', 42)).not.toBe(hash53('ร้านนี้', 43));
    expect(Number.isSafeInteger(hash53('x'))).toBe(true);
  });
});

describe('dataReport', () => {
  it('counts per split and label, per reason, and warns about the small class', () => {
    const raw = corpus({ neu: 545, neg: 254, pos: 179, q: 22 }).map((r, i) => rec(i + 1, { ...r }));
    raw.push(rec(2000, { text: 'x', label: 'NEG' }), rec(2001, raw[0]!.record!));
    const cleaned = cleanRows(raw, opts);
    const splits = stratifiedSplit(cleaned.rows, { validFraction: 0.1, testFraction: 0.1, seed: 7 });
    const report = dataReport(cleaned, splits, labels);
    expect(report.input).toBe(1002);
    expect(report.kept).toBe(1000);
    expect(report.duplicatesRemoved).toBe(1);
    expect(report.quarantinedByReason).toEqual({ malformed: 0, missing_field: 0, empty_text: 0, unknown_label: 1, conflicting_label: 0 });
    expect(report.perLabel.test).toEqual({ pos: 18, neu: 55, neg: 25, q: 2 });
    expect(report.imbalance).toBe(24.77);
    expect(report.warnings).toEqual([
      'label q has only 2.2% of rows (22 of 1000); read its per-class metrics, not just accuracy',
      'label q has 2 rows in the smaller of valid/test: its metrics there are noisy',
      'label imbalance 24.77:1 (largest/smallest); class weights are advised',
    ]);
  });
});

describe('assertTrainable', () => {
  const fields = { textField: 'text', labelField: 'label' };
  it('names the missing label and what to check', () => {
    const cleaned = cleanRows(
      [rec(1, { text: 'a', label: 'pos' }), rec(2, { text: 'b', label: 'neu' }), rec(3, { text: 'c', label: 'neg' }), rec(4, { text: 'd', label: 'Q' })],
      opts,
    );
    expect(() => assertTrainable(cleaned, labels, fields)).toThrow(DatasetError);
    expect(() => assertTrainable(cleaned, labels, fields)).toThrow(/Label "q" has no rows.*\n.*"Q" ×1/);
  });
  it('when every row is quarantined, says which reason dominates and what field to check', () => {
    const cleaned = cleanRows([rec(1, { message: 'a', label: 'pos' }), rec(2, { message: 'b', label: 'neu' })], opts);
    expect(() => assertTrainable(cleaned, labels, fields)).toThrow(/all 2 input rows.*missing_field 2[\s\S]*data\.textField \("text"\)/);
  });
  it('passes a usable dataset', () => {
    const cleaned = cleanRows(
      labels.map((l, i) => rec(i, { text: l, label: l })),
      opts,
    );
    expect(() => assertTrainable(cleaned, labels, fields)).not.toThrow();
  });
});
