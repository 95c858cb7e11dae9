// Cleaning, splitting and reporting on a labelled text dataset. Pure: no I/O, no Node
// builtins, so workflows may import it. Reading files and hashing live in adapters/datasets.
//
// Accounting rule: every input row ends up in exactly one place — kept, quarantined (with a
// reason) or counted as a duplicate. Tests assert rows + quarantined + duplicates = input.

import { closestName } from './closest-name';

/** One record as the reader produced it. `line` is where it starts in its file (1-based). */
export interface RawRow {
  line: number;
  /** The file it came from, when several are combined (original + feedback). */
  source?: string;
  raw?: string;
  record?: Record<string, unknown>;
  parseError?: string;
}

export interface Row {
  text: string;
  label: string;
}

export const quarantineReasons = ['malformed', 'missing_field', 'empty_text', 'unknown_label', 'conflicting_label'] as const;
export type QuarantineReason = (typeof quarantineReasons)[number];

export interface QuarantinedRow {
  line: number;
  source?: string;
  reason: QuarantineReason;
  detail: string;
  raw: string;
}

export interface CleanOptions {
  labels: readonly string[];
  textField: string;
  labelField: string;
}

export interface CleanResult {
  rows: Row[];
  quarantined: QuarantinedRow[];
  duplicatesRemoved: number;
  /** Label values seen that are not in the spec, with counts: the first thing to look at. */
  unknownLabels: Record<string, number>;
}

export interface Splits {
  train: Row[];
  valid: Row[];
  test: Row[];
}
export const splitNames = ['train', 'valid', 'test'] as const;
export type SplitName = (typeof splitNames)[number];

export interface SplitOptions {
  validFraction: number;
  testFraction: number;
  seed: number;
}

export interface DataReport {
  /** Records read (blank lines are not records). */
  input: number;
  kept: number;
  perLabel: Record<SplitName, Record<string, number>>;
  quarantinedByReason: Record<QuarantineReason, number>;
  duplicatesRemoved: number;
  unknownLabels: Record<string, number>;
  /** Largest label count over smallest, on the kept rows; null when a label has none. */
  imbalance: number | null;
  warnings: string[];
}

/** A dataset that cannot be trained on; `hint` says what to check. */
export class DatasetError extends Error {
  override name = 'DatasetError';
  /** Retrying cannot fix it: the activity fails at once (see activities/errors.ts). */
  readonly nonRetryable = true;
  constructor(
    message: string,
    readonly hint: string,
    options?: { cause?: unknown },
  ) {
    super(`${message}\n${hint}`, options);
  }
}

// ZWSP (U+200B) and a stray BOM/ZWNBSP (U+FEFF) are invisible layout hints: Thai is written
// without spaces and editors/Facebook sprinkle ZWSP as optional line-break points, so dropping
// them yields the text as a reader sees it. ZWJ/ZWNJ (U+200D/U+200C) stay: they change how
// emoji sequences and some scripts render, i.e. they carry meaning.
const invisible = /[\u200B\uFEFF]/g;

/**
 * Unicode NFC, invisible ZWSP/BOM removed, every whitespace run (tabs, newlines, NBSP, the
 * U+2000 spaces, ideographic space) collapsed to one ASCII space, trimmed. NFC matters for
 * Thai: a tone mark typed before a below-vowel (ุ ู) is reordered, so the two spellings of
 * the same word become one. Sara am (ำ) is left as typed: only NFKC would touch it.
 * Serving must apply the same function to its input, or train and serve see different text.
 */
export function normalizeText(s: string): string {
  return foldThaiRepeats(s.replace(invisible, '').replace(/\s+/g, ' ').trim().normalize('NFC'));
}

// Thai social-media spelling stretches words and laughs to show feeling ("มากกกกก", "5555555",
// "ถถถ": 5 typed on the Thai keyboard layout). Each length is a different string to the
// tokenizer, so one feeling would be spread over many rare spellings; folding keeps "stretched"
// as a signal and drops the length. score.py's normalize_text mirrors these expressions exactly.
// Laughter: three or more 5s (or Thai ๕, or ถ) not continuing a number ("1555 บาท" stays).
const laughter = /(?<![0-9๐-๙])(?:5{3,}|๕{3,}|ถ{3,})(?:5+|๕+|ถ{3,})*/gu;
// The repetition mark ๆ: one is enough, and written against its word ("ดี ๆ ๆ" → "ดีๆ").
const repetitionMarks = / ?ๆ(?: ?ๆ)*/gu;
// Any other character (or emoji with its variation selector or skin tone) four times or more in
// a row → three. Not digits: 1000000 is a number, not emphasis. Not the space: already single.
const longRun = /([^0-9๐-๙ ](?:\uFE0F|[\u{1F3FB}-\u{1F3FF}])?)\1{3,}/gu;

/** The folds above, in this order (laughter before long runs, so "ถถถถ" laughs instead of shrinking to "ถถถ"). */
export function foldThaiRepeats(s: string): string {
  return s.replace(laughter, '555').replace(repetitionMarks, 'ๆ').replace(longRun, '$1$1$1');
}

function describeType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

type Candidate = Row & { index: number; line: number; source?: string; raw: string };

/**
 * Validates and normalizes rows, then resolves repeats of a (normalized) text:
 * - same text, same label: the first is kept, the others counted in `duplicatesRemoved`;
 * - same text, different labels: every copy is quarantined as `conflicting_label`. Keeping
 *   "the first" would keep an arbitrary annotator's answer (in Wisesight all 16 repeated texts
 *   disagree, e.g. "เท่าไหร่" as q and neu); the quarantine file lists them for relabelling.
 * Labels are trimmed; numbers are accepted as labels ("1"), other types are malformed.
 */
export function cleanRows(rawRows: readonly RawRow[], options: CleanOptions): CleanResult {
  const { labels, textField, labelField } = options;
  const known = new Set(labels);
  const quarantined: (QuarantinedRow & { index: number })[] = [];
  // A Map, not an object: a label typed as "constructor" or "__proto__" would find Object's.
  const unknownLabels = new Map<string, number>();
  const candidates: Candidate[] = [];

  rawRows.forEach((r, index) => {
    const raw = r.raw ?? JSON.stringify(r.record ?? null);
    const reject = (reason: QuarantineReason, detail: string) =>
      quarantined.push({ index, line: r.line, ...(r.source !== undefined && { source: r.source }), reason, detail, raw });
    if (r.parseError !== undefined || r.record === undefined) return reject('malformed', r.parseError ?? 'no record');
    const rec = r.record;
    // Own fields only: a record without "constructor" must not find Object's (a spec may name any field).
    const field = (f: string) => (Object.hasOwn(rec, f) ? rec[f] : undefined);
    const missing = [textField, labelField].filter((f) => field(f) === undefined || field(f) === null);
    if (missing.length > 0) {
      const present = Object.keys(rec);
      return reject('missing_field', `missing ${missing.map((f) => `"${f}"`).join(' and ')} (fields present: ${present.length ? present.join(', ') : 'none'})`);
    }
    const text = field(textField);
    const label = field(labelField);
    if (typeof text !== 'string') return reject('malformed', `"${textField}" is ${describeType(text)}, expected a string`);
    if (typeof label !== 'string' && !(typeof label === 'number' && Number.isFinite(label))) {
      return reject('malformed', `"${labelField}" is ${describeType(label)}, expected a string`);
    }
    const normalized = normalizeText(text);
    if (normalized === '') return reject('empty_text', text === '' ? `"${textField}" is empty` : `"${textField}" has only whitespace or invisible characters`);
    const lab = String(label).trim();
    if (lab === '') return reject('missing_field', `"${labelField}" is empty`);
    if (!known.has(lab)) {
      unknownLabels.set(lab, (unknownLabels.get(lab) ?? 0) + 1);
      const guess = closestName(lab, labels);
      return reject('unknown_label', `label ${JSON.stringify(lab)} is not one of ${labels.join(', ')}${guess ? ` (did you mean "${guess}"?)` : ''}`);
    }
    candidates.push({ text: normalized, label: lab, index, line: r.line, ...(r.source !== undefined && { source: r.source }), raw });
  });

  const byText = new Map<string, Candidate[]>();
  for (const c of candidates) {
    const group = byText.get(c.text);
    if (group) group.push(c);
    else byText.set(c.text, [c]);
  }
  const where = (c: Candidate) => `${c.source !== undefined ? `${c.source}:` : 'line '}${c.line}`;
  const kept: Candidate[] = [];
  let duplicatesRemoved = 0;
  for (const group of byText.values()) {
    const distinct = [...new Set(group.map((c) => c.label))];
    if (distinct.length === 1) {
      kept.push(group[0]!);
      duplicatesRemoved += group.length - 1;
      continue;
    }
    const seen = group.map((c) => `${c.label} (${where(c)})`).join(', ');
    for (const c of group) {
      quarantined.push({
        index: c.index,
        line: c.line,
        ...(c.source !== undefined && { source: c.source }),
        reason: 'conflicting_label',
        detail: `the same text is labelled differently: ${seen}`,
        raw: c.raw,
      });
    }
  }
  kept.sort((a, b) => a.index - b.index);
  quarantined.sort((a, b) => a.index - b.index);
  return {
    rows: kept.map(({ text, label }) => ({ text, label })),
    quarantined: quarantined.map(({ index: _index, ...q }) => q),
    duplicatesRemoved,
    unknownLabels: Object.fromEntries(unknownLabels),
  };
}

/** cyrb53: a small, well-mixed 53-bit string hash. The seed is used as a 32-bit integer. */
export function hash53(s: string, seed = 0): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

function splitCounts(n: number, { validFraction, testFraction }: SplitOptions): [test: number, valid: number] {
  // Fewer than 3 rows cannot reach all three splits: training needs them most.
  if (n < 3) return [0, 0];
  let test = Math.max(1, Math.round(n * testFraction));
  let valid = Math.max(1, Math.round(n * validFraction));
  while (n - test - valid < 1) {
    if (test >= valid) test--;
    else valid--;
  }
  return [test, valid];
}

/**
 * Stratified by label and deterministic. Within each label, rows are ordered by a seeded hash
 * of their text (a shuffle that does not depend on file order) and cut into test | valid |
 * train. Because the order of existing rows never changes when rows are added, retraining
 * with feedback only moves rows near the cuts — an old test row does not end up in train.
 * Each label with at least 3 rows has at least one row in every split. Texts are assumed
 * unique (cleanRows guarantees it), so a text lands in exactly one split.
 */
export function stratifiedSplit(rows: readonly Row[], options: SplitOptions): Splits {
  const { validFraction, testFraction, seed } = options;
  if (!(validFraction > 0 && testFraction > 0 && validFraction + testFraction < 1)) {
    throw new RangeError(`validFraction (${validFraction}) and testFraction (${testFraction}) must be > 0 and sum to less than 1`);
  }
  const key = new Map<Row, number>();
  const keyed = (r: Row) => key.get(r) ?? key.set(r, hash53(r.text, seed)).get(r)!;
  const byKey = (a: Row, b: Row) => keyed(a) - keyed(b) || (a.text < b.text ? -1 : a.text > b.text ? 1 : 0) || (a.label < b.label ? -1 : 1);

  const byLabel = new Map<string, Row[]>();
  for (const r of rows) {
    const group = byLabel.get(r.label);
    if (group) group.push(r);
    else byLabel.set(r.label, [r]);
  }
  const out: Splits = { train: [], valid: [], test: [] };
  for (const group of byLabel.values()) {
    group.sort(byKey);
    const [nTest, nValid] = splitCounts(group.length, options);
    out.test.push(...group.slice(0, nTest));
    out.valid.push(...group.slice(nTest, nTest + nValid));
    out.train.push(...group.slice(nTest + nValid));
  }
  // Labels interleaved, in hash order: a trainer that reads the file in order still sees a mix.
  for (const name of splitNames) out[name].sort(byKey);
  return out;
}

/**
 * The exact bytes the dataset version is a hash of: format tag, label order (it fixes the
 * class indices) and every row of every split in file order. Same rows → same string.
 */
export function canonicalDataset(splits: Splits, labels: readonly string[]): string {
  const parts = [JSON.stringify({ format: 'mlc-dataset/1', labels })];
  for (const name of splitNames) {
    parts.push(JSON.stringify({ split: name, rows: splits[name].length }));
    for (const r of splits[name]) parts.push(JSON.stringify([r.text, r.label]));
  }
  return parts.join('\n') + '\n';
}

/** One JSON object per line, as slurm/mlc_train reads it. */
export function toJsonl(rows: readonly object[]): string {
  return rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : '');
}

function countLabels(rows: readonly Row[], labels: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries(labels.map((l) => [l, 0]));
  for (const r of rows) counts[r.label] = (counts[r.label] ?? 0) + 1;
  return counts;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** Counts and warnings an ML engineer (and later the auditor) reads before training. */
export function dataReport(cleaned: CleanResult, splits: Splits, labels: readonly string[]): DataReport {
  const kept = cleaned.rows.length;
  const input = kept + cleaned.quarantined.length + cleaned.duplicatesRemoved;
  const perLabel = {
    train: countLabels(splits.train, labels),
    valid: countLabels(splits.valid, labels),
    test: countLabels(splits.test, labels),
  };
  const quarantinedByReason = Object.fromEntries(quarantineReasons.map((r) => [r, 0])) as Record<QuarantineReason, number>;
  for (const q of cleaned.quarantined) quarantinedByReason[q.reason]++;

  const total = countLabels(cleaned.rows, labels);
  const counts = labels.map((l) => total[l] ?? 0);
  const min = Math.min(...counts);
  const imbalance = min > 0 ? Math.round((Math.max(...counts) / min) * 100) / 100 : null;

  const warnings: string[] = [];
  const q = cleaned.quarantined.length;
  if (input > 0 && q / input > 0.05) warnings.push(`${pct(q / input)} of input rows were quarantined (${q} of ${input}); see quarantine.jsonl`);
  if (quarantinedByReason.conflicting_label > 0) {
    warnings.push(
      `${quarantinedByReason.conflicting_label} rows share a text with a different label and were quarantined (conflicting_label); relabel them at the source`,
    );
  }
  for (const l of labels) {
    const n = total[l] ?? 0;
    if (n === 0) warnings.push(`label ${l} has no rows`);
    else if (n < 3) warnings.push(`label ${l} has only ${n} row${n === 1 ? '' : 's'}: all in train, none to validate or test it on`);
    else if (kept > 0 && n / kept < 0.05)
      warnings.push(`label ${l} has only ${pct(n / kept)} of rows (${n} of ${kept}); read its per-class metrics, not just accuracy`);
    const smallest = Math.min(perLabel.valid[l] ?? 0, perLabel.test[l] ?? 0);
    if (n >= 3 && smallest < 10)
      warnings.push(`label ${l} has ${smallest} row${smallest === 1 ? '' : 's'} in the smaller of valid/test: its metrics there are noisy`);
  }
  if (imbalance !== null && imbalance >= 10) warnings.push(`label imbalance ${imbalance}:1 (largest/smallest); class weights are advised`);

  return {
    input,
    kept,
    perLabel,
    quarantinedByReason,
    duplicatesRemoved: cleaned.duplicatesRemoved,
    unknownLabels: cleaned.unknownLabels,
    imbalance,
    warnings,
  };
}

/**
 * Throws DatasetError when training cannot start: no row survived cleaning, or a label of the
 * spec has no row at all. The message names the file (`fields.path`, the spec's data.path),
 * the label, and says what to check.
 */
export function assertTrainable(
  cleaned: CleanResult,
  labels: readonly string[],
  fields: { textField: string; labelField: string; path?: string; /** Where the quarantined rows can be read. */ quarantineListing?: string },
): void {
  const inFile = fields.path === undefined ? '' : ` in ${fields.path}`;
  const byReason = (reason: QuarantineReason) => cleaned.quarantined.filter((q) => q.reason === reason).length;
  const unknown = Object.entries(cleaned.unknownLabels)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5)
    .map(([l, n]) => `${JSON.stringify(l)} ×${n}`)
    .join(', ');
  if (cleaned.rows.length === 0) {
    const input = cleaned.quarantined.length + cleaned.duplicatesRemoved;
    const reasons = quarantineReasons.map((r) => [r, byReason(r)] as const).filter(([, n]) => n > 0);
    const top = reasons.sort((a, b) => b[1] - a[1])[0]?.[0];
    const hint = {
      malformed: 'Check data.format and that the file is UTF-8 JSONL (one object per line) or CSV with a header row.',
      missing_field: `Check data.textField ("${fields.textField}") and data.labelField ("${fields.labelField}") against the field names in the file.`,
      empty_text: `Check data.textField ("${fields.textField}"): it points at an empty field.`,
      unknown_label: `Check the spec's labels (${labels.join(', ')}) against the values in data.labelField ("${fields.labelField}"): seen ${unknown}.`,
      conflicting_label: 'Every text carries different labels in different rows; check data.labelField.',
    }[top ?? 'malformed'];
    throw new DatasetError(
      `No usable rows${inFile}: all ${input} input rows were quarantined or duplicates (${reasons.map(([r, n]) => `${r} ${n}`).join(', ') || 'the file is empty'}).`,
      `${hint} ${fields.quarantineListing ?? 'quarantine.jsonl lists every row with its reason.'}`,
    );
  }
  const present = new Set(cleaned.rows.map((r) => r.label));
  const absent = labels.filter((l) => !present.has(l));
  if (absent.length > 0) {
    const l = absent[0]!;
    throw new DatasetError(
      `Label "${l}" has no rows${inFile} after cleaning${
        absent.length > 1
          ? ` (nor ${absent
              .slice(1)
              .map((x) => `"${x}"`)
              .join(', ')})`
          : ''
      }; a classifier cannot learn a class it never sees.`,
      `Check that data.labelField ("${fields.labelField}") holds "${l}" exactly as spelled in the spec's labels${unknown ? ` (values not in the spec: ${unknown})` : ''}, or remove "${l}" from labels.`,
    );
  }
}
