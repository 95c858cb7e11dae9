// The audit page's sections about how the version scored on its test split: metrics with
// intervals, gates, classes, confusion, calibration, slices and the most confident errors.
import type { AuditPackage } from './model';
import { pct, range, section, table } from './format';
import { barChart, esc, heatMap, histogram, reliabilityDiagram } from './svg';

const headline = [
  ['accuracy', 'accuracy'],
  ['macro_precision', 'macro precision'],
  ['macro_recall', 'macro recall'],
  ['macro_f1', 'macro F1'],
] as const;

export function metricsSection(p: AuditPackage): string {
  const m = p.intervals.metrics;
  const it = m.accuracy;
  const rows = headline.map(([k, name]) => [esc(name), pct(p.report[k]), range(m[k])]);
  const chart = barChart({
    id: 'metrics',
    title: `Test metrics with ${Math.round((1 - it.alpha) * 100)}% bootstrap intervals`,
    categories: headline.map(([, name]) => name),
    series: [{ name: 'value', values: headline.map(([k]) => p.report[k]), lower: headline.map(([k]) => m[k].lower), upper: headline.map(([k]) => m[k].upper) }],
    min: 0,
    max: 1,
    format: pct,
    caption: `Percentile bootstrap over the ${p.report.n} test rows (${it.iterations} resamples, seed ${it.seed}).`,
  });
  return section(
    'metrics',
    'Metrics on the held-out test split',
    `<div class="grid2">${table(['metric', 'value', `${Math.round((1 - it.alpha) * 100)}% interval`], rows, [false, true, true])}${chart}</div>`,
  );
}

export function gatesSection(p: AuditPackage): string {
  const body = p.gates.results.length
    ? table(
        ['gate', 'minimum', 'value', 'result'],
        p.gates.results.map((g) => [
          esc(g.metric),
          pct(g.min),
          pct(g.value),
          g.passed ? '<span class="badge pass">PASS</span>' : '<span class="badge fail">FAIL</span>',
        ]),
        [false, true, true, false],
      )
    : '<p>No gates set in the spec.</p>';
  return section('gates', 'Gates', body);
}

export function classesSection(p: AuditPackage): string {
  const rows = p.labels.map((l) => {
    const c = p.report.perClass[l]!;
    const ci = p.intervals.perClass[l]!;
    return [esc(l), pct(c.precision), range(ci.precision), pct(c.recall), range(ci.recall), pct(c.f1), range(ci.f1), String(c.support)];
  });
  const pick = (k: 'precision' | 'recall' | 'f1') => ({
    values: p.labels.map((l) => p.report.perClass[l]![k]),
    lower: p.labels.map((l) => p.intervals.perClass[l]![k].lower),
    upper: p.labels.map((l) => p.intervals.perClass[l]![k].upper),
  });
  const chart = barChart({
    id: 'per-class',
    title: 'Precision, recall and F1 per class',
    categories: p.labels,
    series: [
      { name: 'precision', ...pick('precision') },
      { name: 'recall', ...pick('recall') },
      { name: 'F1', ...pick('f1') },
    ],
    min: 0,
    max: 1,
    format: pct,
    caption: 'Whiskers: bootstrap intervals from the resamples in which the class occurs (recall) or is predicted (precision).',
  });
  return section(
    'classes',
    'Per class',
    table(['label', 'precision', 'interval', 'recall', 'interval', 'F1', 'interval', 'support'], rows, [false, true, true, true, true, true, true, true]) +
      chart,
  );
}

export function confusionSection(p: AuditPackage): string {
  return section(
    'confusion',
    'Confusion matrix',
    heatMap({
      id: 'confusion',
      title: 'Confusion matrix (rows: truth, columns: predicted)',
      rows: p.report.labels,
      columns: p.report.labels,
      counts: p.report.confusion,
      rowTitle: 'truth',
      columnTitle: 'predicted',
      caption: 'Each cell counts test rows; the shade is the share of its row (blue on the diagonal: recall; orange off it: where that class goes wrong).',
    }),
  );
}

export function calibrationSection(p: AuditPackage): string {
  const c = p.calibration;
  const reliability = reliabilityDiagram({
    id: 'reliability',
    title: `Reliability diagram — ECE ${pct(c.ece)}`,
    bins: c.bins,
    caption: `Expected calibration error ${pct(c.ece)} (maximum gap ${pct(c.mce)}) over ${c.n} rows in ${c.bins.length} equal-width bins. Bars under the diagonal: the model is more confident than it is right.`,
  });
  const confidence = histogram({
    id: 'confidence',
    title: 'Confidence of the predicted label',
    bins: c.bins,
    series: [
      { name: 'right', counts: c.bins.map((b) => b.correct) },
      { name: 'wrong', counts: c.bins.map((b) => b.count - b.correct) },
    ],
    xLabel: "predicted label's probability",
    caption: 'Test rows by the probability the model gave its answer, split by whether the answer was right.',
  });
  return section('calibration', 'Calibration and confidence', `<div class="grid2">${reliability}${confidence}</div>`);
}

export function slicesSection(p: AuditPackage): string {
  if (p.slices.length === 0) return section('slices', 'Per slice', '<p>No slices: the test split is empty.</p>');
  const rows = p.slices.map((s) => [esc(s.slice), String(s.n), pct(s.accuracy), pct(s.macro_f1)]);
  const chart = barChart({
    id: 'slices',
    title: 'Accuracy and macro F1 per slice',
    categories: p.slices.map((s) => `${s.slice} (${s.n})`),
    series: [
      { name: 'accuracy', values: p.slices.map((s) => s.accuracy) },
      { name: 'macro F1', values: p.slices.map((s) => s.macro_f1) },
    ],
    min: 0,
    max: 1,
    format: pct,
    caption: 'The same metrics on groups of the test split by length and by script; a slice with few rows is noisy.',
  });
  return section(
    'slices',
    'Per slice',
    `<div class="grid2">${table(['slice', 'rows', 'accuracy', 'macro F1'], rows, [false, true, true, true])}${chart}</div>`,
  );
}

export function errorsSection(p: AuditPackage): string {
  if (p.errors.length === 0) return section('errors', 'Most confident errors', '<p>No errors on the test split.</p>');
  const rows = p.errors.map((e) => [esc(e.label), esc(e.predicted), pct(e.confidence), `<span lang="th">${esc(e.text)}</span>`]);
  return section('errors', 'Most confident errors', table(['truth', 'predicted', 'confidence', 'text'], rows, [false, false, true, false]));
}
