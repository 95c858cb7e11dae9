// Draws the repository's Wisesight sample: a stratified train sample and a label-shifted
// "production feedback" file, plus their README. Deterministic: same corpus → same bytes.
//   npx tsx data/sample-wisesight.ts [corpus-dir]   (default /work/shared/data/wisesight)
// Rows are copied verbatim (not normalized): the quirks of the corpus are part of the sample.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seededRandom, shuffle } from '../domain/random';

const SEED = 20240917;
const TRAIN_ROWS = 3000;
/** Shifted towards complaints and questions, so monitoring sees drift against the train mix. */
const FEEDBACK_QUOTA: Record<string, number> = { neg: 160, q: 40, neu: 65, pos: 35 };
const LABELS = ['neu', 'neg', 'pos', 'q'];

const src = process.argv[2] ?? process.env.WISESIGHT_DIR ?? '/work/shared/data/wisesight';
const out = join(dirname(fileURLToPath(import.meta.url)), 'wisesight-sample');

interface Line {
  raw: string;
  text: string;
  label: string;
}
function read(file: string): Line[] {
  return readFileSync(join(src, file), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((raw) => {
      const { text, label } = JSON.parse(raw) as { text: string; label: string };
      return { raw, text, label };
    });
}

function count(rows: Line[]): Record<string, number> {
  return Object.fromEntries(LABELS.map((l) => [l, rows.filter((r) => r.label === l).length]));
}

/** Population stability index of b against a, over label shares (0.25 = major shift). */
function psi(a: Record<string, number>, b: Record<string, number>): number {
  const na = Object.values(a).reduce((x, y) => x + y, 0);
  const nb = Object.values(b).reduce((x, y) => x + y, 0);
  return LABELS.reduce((s, l) => {
    const pa = Math.max((a[l] ?? 0) / na, 1e-4);
    const pb = Math.max((b[l] ?? 0) / nb, 1e-4);
    return s + (pb - pa) * Math.log(pb / pa);
  }, 0);
}

const train = read('train.jsonl');
const valid = read('valid.jsonl');
const rand = seededRandom(SEED); // mulberry32

// Train: proportional quotas (largest remainder, so they sum to TRAIN_ROWS), kept in corpus order.
const full = count(train);
const exact = LABELS.map((l) => ({ l, q: (TRAIN_ROWS * full[l]!) / train.length }));
const quota = Object.fromEntries(exact.map(({ l, q }) => [l, Math.floor(q)]));
let missing = TRAIN_ROWS - Object.values(quota).reduce((x, y) => x + y, 0);
for (const { l } of [...exact].sort((a, b) => (b.q % 1) - (a.q % 1))) if (missing-- > 0) quota[l]!++;
const picked: number[] = [];
for (const l of LABELS) {
  const idx = train.flatMap((r, i) => (r.label === l ? [i] : []));
  picked.push(...shuffle(idx, rand).slice(0, quota[l]));
}
const trainSample = picked.sort((a, b) => a - b).map((i) => train[i]!);

// Feedback: valid rows whose text never occurs in train (production text is new), shuffled.
const trainTexts = new Set(train.map((r) => r.text));
const fresh = valid.filter((r) => !trainTexts.has(r.text));
const feedback = shuffle(
  LABELS.flatMap((l) =>
    shuffle(
      fresh.filter((r) => r.label === l),
      rand,
    ).slice(0, FEEDBACK_QUOTA[l]),
  ),
  rand,
);

const texts = new Map<string, Set<string>>();
for (const r of trainSample) texts.set(r.text, (texts.get(r.text) ?? new Set()).add(r.label));
const repeated = [...texts.entries()].filter(([t]) => trainSample.filter((r) => r.text === t).length > 1);
const corpusRepeats = train.length - new Set(train.map((r) => r.text)).size;
const nonNfc = trainSample.filter((r) => r.text.normalize('NFC') !== r.text).length;
const zwsp = trainSample.filter((r) => r.text.includes('\u200b')).length;

mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'train.jsonl'), trainSample.map((r) => r.raw).join('\n') + '\n');
writeFileSync(join(out, 'feedback.jsonl'), feedback.map((r) => r.raw).join('\n') + '\n');

const tc = count(trainSample);
const fc = count(feedback);
const row = (name: string, rows: Line[], c: Record<string, number>, from: string) =>
  `| ${name} | ${from} | ${rows.length} | ${LABELS.map((l) => `${c[l]} (${((100 * c[l]!) / rows.length).toFixed(1)}%)`).join(' | ')} |`;
const readme = `# Wisesight Sentiment sample

Thai social-media messages labelled \`pos\`, \`neu\`, \`neg\` or \`q\` (question), one JSON object
per line: \`{"text": "...", "label": "..."}\` (UTF-8). Used by the demo and the tests.

**Source:** Wisesight Sentiment Corpus (PyThaiNLP/wisesight-sentiment), by Wisesight and
PyThaiNLP. **License:** CC0 1.0 Universal (public domain dedication),
https://creativecommons.org/publicdomain/zero/1.0/. **Cite:** Suriyawongkul, A.,
Chuangsuwanich, E., Chormai, P. and Polpanumas, C. (2019). PyThaiNLP/wisesight-sentiment: First
release. Zenodo. DOI [10.5281/zenodo.3457446](https://doi.org/10.5281/zenodo.3457446) (the
corpus's own citation; the Hugging Face card cites the v1.0 record, 10.5281/zenodo.3457447).
Copied from the Hugging Face split of the corpus; the sample keeps CC0 1.0.

## Files

| file | drawn from | rows | ${LABELS.join(' | ')} |
|---|---|---|${LABELS.map(() => '---').join('|')}|
${row('train.jsonl', trainSample, tc, 'corpus train split')}
${row('feedback.jsonl', feedback, fc, 'corpus valid split')}

- **train.jsonl** — a stratified random sample of the corpus's train split (${train.length} rows):
  each label's share is kept (largest-remainder quotas), rows are chosen with a seeded
  shuffle per label (mulberry32, seed ${SEED}) and written in corpus order, byte for byte.
  Nothing is cleaned: ${repeated.length ? `${repeated.length} text${repeated.length === 1 ? ' occurs' : 's occur'} more than once (labels ${repeated.map(([, l]) => [...l].join('/')).join(', ')})` : `no text occurs twice (the corpus repeats ${corpusRepeats} texts; none was drawn twice)`},
  ${nonNfc} rows are not in Unicode NFC (Thai tone mark typed before a below-vowel) and
  ${zwsp} contain zero-width spaces — the preprocess stage deals with them.
- **feedback.jsonl** — "production feedback" for the monitoring demo: rows of the corpus's
  valid split whose text does not occur in its train split, drawn per label with fixed quotas
  (${Object.entries(FEEDBACK_QUOTA)
    .map(([l, n]) => `${l} ${n}`)
    .join(', ')}) and shuffled. The label mix is
  shifted on purpose towards complaints and questions: label PSI against train.jsonl is
  ${psi(tc, fc).toFixed(2)} (0.25 and above is a major shift), so monitoring reports drift.

The corpus's own test split is not used anywhere in this repository.

Regenerate (deterministic): \`npx tsx data/sample-wisesight.ts [path/to/wisesight]\`, a folder
holding the corpus's train.jsonl and valid.jsonl.
`;
writeFileSync(join(out, 'README.md'), readme);
console.log(
  `train.jsonl ${trainSample.length} ${JSON.stringify(tc)}\nfeedback.jsonl ${feedback.length} ${JSON.stringify(fc)}\nPSI ${psi(tc, fc).toFixed(3)}, repeated texts ${repeated.length}, non-NFC ${nonNfc}, ZWSP ${zwsp}`,
);
