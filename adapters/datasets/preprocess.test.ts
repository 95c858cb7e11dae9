import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatasetError } from '../../domain/dataset';
import { checkDataset, preprocessDataset, sha256Hex } from './preprocess';
import { DatasetNotFoundError } from './read';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const labels = ['pos', 'neu', 'neg', 'q'];
const data = (path: string, extra: Partial<{ format: 'jsonl' | 'csv'; textField: string; labelField: string; seed: number }> = {}) => ({
  path,
  textField: 'text',
  labelField: 'label',
  validFraction: 0.1,
  testFraction: 0.1,
  seed: 42,
  ...extra,
});

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mlc-pre-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const jsonl = async (path: string) =>
  (await readFile(path, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** A small synthetic corpus, 4 labels, q rare. */
function rows(n = 400): { text: string; label: string }[] {
  return Array.from({ length: n }, (_, i) => ({ text: `ข้อความที่ ${i}`, label: i % 20 === 0 ? 'q' : labels[i % 3]! }));
}
async function corpusFile(name: string, content = rows()): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, content.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return p;
}

describe('preprocessDataset on data/bad-rows.jsonl', () => {
  it('quarantines each kind of bad row with exact counts and writes every file', async () => {
    const outDir = join(dir, 'bad');
    const res = await preprocessDataset({ spec: { labels, data: data('data/bad-rows.jsonl') }, specDir: repo, outDir });
    const r = res.report;
    expect(r.sources).toEqual([{ path: 'data/bad-rows.jsonl', format: 'jsonl', records: 23, blankLines: 1 }]);
    expect(r.quarantinedByReason).toEqual({ malformed: 4, missing_field: 3, empty_text: 2, unknown_label: 2, conflicting_label: 2 });
    expect(r.duplicatesRemoved).toBe(3);
    expect(r.kept).toBe(7);
    expect(r.input).toBe(23);
    expect(r.kept + 13 + r.duplicatesRemoved).toBe(r.input);
    expect(r.unknownLabels).toEqual({ positive: 1, NEG: 1 });

    expect((await readdir(outDir)).sort()).toEqual(['quarantine.jsonl', 'report.json', 'test.jsonl', 'train.jsonl', 'valid.jsonl']);
    const quarantine = await jsonl(join(outDir, 'quarantine.jsonl'));
    expect(quarantine.map((q) => [q.line, q.reason])).toEqual([
      [6, 'malformed'],
      [7, 'malformed'],
      [8, 'malformed'],
      [9, 'empty_text'],
      [10, 'empty_text'],
      [11, 'unknown_label'],
      [12, 'unknown_label'],
      [13, 'missing_field'],
      [14, 'missing_field'],
      [15, 'missing_field'],
      [19, 'conflicting_label'],
      [20, 'conflicting_label'],
      [22, 'malformed'],
    ]);
    expect(quarantine[0]).toMatchObject({ source: 'data/bad-rows.jsonl', raw: '{"text": "ส่งของช้ามาก ไม่ประทับใจเลย", "label": "neg"' });

    const kept = (await Promise.all(['train', 'valid', 'test'].map((s) => jsonl(join(outDir, `${s}.jsonl`))))).flat();
    expect(kept.map((k) => k.text).sort()).toEqual(
      ['ชอบมาก', 'ราคาเท่าไหร่ ครับ', 'ร้านเปิดกี่โมงคะ', 'วันนี้ฝนตกทั้งวัน', 'ส่งของช้ามาก ไม่ประทับใจเลย', 'อยู่ที่ไหนคะ', 'อร่อยมากค่ะ ร้านนี้ต้องมาอีก'].sort(),
    );
    expect(kept.find((k) => k.text === 'อยู่ที่ไหนคะ')).toEqual({ text: 'อยู่ที่ไหนคะ', label: 'q' }); // NFC, with its duplicate removed
    const report = JSON.parse(await readFile(join(outDir, 'report.json'), 'utf8'));
    expect(report).toEqual(res.report);
    expect(res.files.train.sha256).toBe(sha256Hex(await readFile(join(outDir, 'train.jsonl'))));
    expect(res.files.quarantine.rows).toBe(13);
  });
});

describe('preprocessDataset', () => {
  it('is deterministic: two runs give the same hash and the same bytes', async () => {
    const p = await corpusFile('det.jsonl');
    const spec = { labels, data: data(p) };
    const a = await preprocessDataset({ spec, specDir: dir, outDir: join(dir, 'det-a') });
    const b = await preprocessDataset({ spec, specDir: dir, outDir: join(dir, 'det-b') });
    expect(b.hash).toBe(a.hash);
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
    for (const f of ['train', 'valid', 'test', 'quarantine', 'report'] as const) expect(b.files[f].sha256).toBe(a.files[f].sha256);
    // idempotent in place: running again over the same folder leaves no temp files behind
    await preprocessDataset({ spec, specDir: dir, outDir: join(dir, 'det-a') });
    expect((await readdir(join(dir, 'det-a'))).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('changes the hash when one row changes, one label changes, or the seed changes', async () => {
    const base = rows();
    const hashOf = async (name: string, content: typeof base, seed = 42) =>
      (await preprocessDataset({ spec: { labels, data: data(await corpusFile(name, content), { seed }) }, specDir: dir, outDir: join(dir, `h-${name}`) })).hash;
    const h0 = await hashOf('h0.jsonl', base);
    const edited = base.map((r, i) => (i === 123 ? { ...r, text: `${r.text}!` } : r));
    const relabelled = base.map((r, i) => (i === 124 ? { ...r, label: r.label === 'pos' ? 'neg' : 'pos' } : r));
    expect(await hashOf('h1.jsonl', edited)).not.toBe(h0);
    expect(await hashOf('h2.jsonl', relabelled)).not.toBe(h0);
    expect(await hashOf('h3.jsonl', base, 43)).not.toBe(h0);
    // cosmetic differences that normalize away keep the version
    const cosmetic = base.map((r, i) => (i === 5 ? { ...r, text: `  ${r.text}\u200b` } : r));
    expect(await hashOf('h4.jsonl', cosmetic)).toBe(h0);
  });

  it('reads CSV with quoted commas and newlines, with custom column names', async () => {
    const p = join(dir, 'c.csv');
    const body = rows(60).map((r, i) => (i === 1 ? `"${r.text}, มีจุลภาค\nและขึ้นบรรทัด ""คำพูด""",${r.label}` : `${r.text},${r.label}`));
    await writeFile(p, `message,sentiment\r\n${body.join('\r\n')}\r\n`);
    const res = await preprocessDataset({
      spec: { labels, data: data('c.csv', { textField: 'message', labelField: 'sentiment' }) },
      specDir: dir,
      outDir: join(dir, 'csv'),
    });
    expect(res.report.kept).toBe(60);
    const all = (await Promise.all(['train', 'valid', 'test'].map((s) => jsonl(join(dir, 'csv', `${s}.jsonl`))))).flat();
    expect(all.map((r) => r.text)).toContain('ข้อความที่ 1, มีจุลภาค และขึ้นบรรทัด "คำพูด"');
  });

  it('adds feedback files: new rows kept, repeats counted, contradictions quarantined', async () => {
    const p = await corpusFile('orig.jsonl');
    const fb = join(dir, 'feedback.jsonl');
    await writeFile(
      fb,
      [
        { text: 'ใหม่จาก production', label: 'neg' },
        { text: 'ข้อความที่ 1', label: 'neu' }, // same as original row 1 (neu): a duplicate
        { text: 'ข้อความที่ 2', label: 'pos' }, // original says neg: conflicting
      ]
        .map((r) => JSON.stringify(r))
        .join('\n'),
    );
    const res = await preprocessDataset({ spec: { labels, data: data(p, { textField: 'text' }) }, specDir: dir, outDir: join(dir, 'fb'), extraFiles: [fb] });
    expect(res.report.sources.map((s) => s.records)).toEqual([400, 3]);
    expect(res.report.input).toBe(403);
    expect(res.report.duplicatesRemoved).toBe(1);
    expect(res.report.quarantinedByReason.conflicting_label).toBe(2);
    expect(res.report.kept).toBe(400);
    const q = await jsonl(join(dir, 'fb', 'quarantine.jsonl'));
    expect(q.map((x) => x.source)).toEqual([p, fb]);
  });

  it('maps feedback {text, label} onto the spec field names', async () => {
    const p = join(dir, 'named.jsonl');
    await writeFile(
      p,
      rows(40)
        .map((r) => JSON.stringify({ message: r.text, sentiment: r.label }))
        .join('\n'),
    );
    const fb = join(dir, 'named-fb.jsonl');
    await writeFile(fb, JSON.stringify({ text: 'feedback row', label: 'q' }) + '\n');
    const res = await preprocessDataset({
      spec: { labels, data: data(p, { textField: 'message', labelField: 'sentiment' }) },
      specDir: dir,
      outDir: join(dir, 'named'),
      extraFiles: [fb],
    });
    expect(res.report.kept).toBe(41);
  });

  it('fails with DatasetError naming the label that has no rows, after writing the quarantine', async () => {
    const p = await corpusFile(
      'noq.jsonl',
      rows().map((r) => (r.label === 'q' ? { ...r, label: 'question' } : r)),
    );
    const outDir = join(dir, 'noq');
    const err = await preprocessDataset({ spec: { labels, data: data(p) }, specDir: dir, outDir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatasetError);
    expect((err as Error).message).toMatch(/Label "q" has no rows/);
    expect((err as Error).message).toMatch(/"question" ×20/);
    expect((await jsonl(join(outDir, 'quarantine.jsonl'))).every((q) => q.reason === 'unknown_label')).toBe(true);
    expect(existsSync(join(outDir, 'report.json'))).toBe(false);
  });

  it('fails with DatasetError when every row is quarantined (wrong textField)', async () => {
    const p = await corpusFile('all-bad.jsonl');
    const err = await preprocessDataset({ spec: { labels, data: data(p, { textField: 'message' }) }, specDir: dir, outDir: join(dir, 'all-bad') }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DatasetError);
    expect((err as Error).message).toMatch(/all 400 input rows[\s\S]*data\.textField \("message"\)/);
  });

  it('reports a missing file against data.path, resolved from the spec folder', async () => {
    const err = await preprocessDataset({ spec: { labels, data: data('missing/train.jsonl') }, specDir: dir, outDir: join(dir, 'nf') }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DatasetNotFoundError);
    expect((err as DatasetNotFoundError).path).toBe(join(dir, 'missing/train.jsonl'));
    expect((err as Error).message).toMatch(/Check data\.path/);
  });
});

describe('checkDataset (mlc validate)', () => {
  it('finds what preprocess finds: the same hash, report and quarantined rows', async () => {
    const outDir = join(dir, 'checked');
    const input = { spec: { labels, data: data('data/bad-rows.jsonl') }, specDir: repo };
    const check = await checkDataset(input);
    const done = await preprocessDataset({ ...input, outDir });
    expect(check).toMatchObject({ usable: true, hash: done.hash, sources: done.report.sources });
    if (!check.usable) return;
    const { hash: _h, labels: _l, sources: _s, split: _sp, normalization: _n, ...report } = done.report;
    expect(check.report).toEqual(report);
    expect(check.quarantined).toEqual(await jsonl(join(outDir, 'quarantine.jsonl')));
  });

  it('says why data cannot be trained on, with the rows quarantined, instead of throwing', async () => {
    const file = await corpusFile('wrong-field.jsonl');
    const check = await checkDataset({ spec: { labels, data: data(file, { textField: 'body' }) }, specDir: dir });
    expect(check.usable).toBe(false);
    if (check.usable) return;
    expect(check.error).toBeInstanceOf(DatasetError);
    expect(check.error.message).toMatch(/No usable rows[\s\S]*Check data\.textField \("body"\)[\s\S]*The first quarantined rows follow\./);
    expect(check.error.message).not.toMatch(/quarantine\.jsonl/);
    expect(check.quarantined).toHaveLength(400);
    expect(check.quarantined[0]).toMatchObject({ line: 1, reason: 'missing_field' });
  });

  it('refuses a path outside the data roots before reading it, as preprocess does', async () => {
    const file = await corpusFile('outside.jsonl');
    const dataAccess = { roots: [join(repo, 'data')], secrets: [], dataDir: join(dir, 'worker') };
    await expect(checkDataset({ spec: { labels, data: data(file) }, specDir: dir, dataAccess })).rejects.toThrow(/outside every data root/);
  });
});
