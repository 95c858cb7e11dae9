// The monitoring report as a page: one self-contained HTML file per run, beside its JSON, in the
// audit package's shell (same stylesheet, same Content-Security-Policy: no script, no request).
// A pure function of the report; a plot per drifted feature shows reference against current.
import type { MonitoringReport } from '../domain/monitoring/report';
import { num } from '../domain/monitoring/drift-tests';
import { pct, section, table } from './audit-package/format';
import { reportPage } from './audit-package/page';
import { barChart, esc, lineChart } from './audit-package/svg';

const band = (e: { value: number; lower: number; upper: number }) => `${pct(e.value)} <span class="muted">[${pct(e.lower)} – ${pct(e.upper)}]</span>`;

function header(r: MonitoringReport): string {
  const verdict = r.degraded
    ? '<span class="verdict fail">degraded: retrain requested</span>'
    : r.breached
      ? '<span class="verdict fail">threshold crossed (not yet retraining)</span>'
      : '<span class="verdict pass">healthy</span>';
  const est = r.performance.estimated;
  const realized = r.performance.realized;
  return (
    `<header class="report"><h1>Monitoring: ${esc(r.model)} version ${r.version}</h1>` +
    `<p>${verdict} · ${r.predictions} predictions · ` +
    (est ? `estimated accuracy ${band(est.accuracy)} · ` : 'accuracy not estimated · ') +
    (realized ? `realized ${pct(realized.accuracy)} on ${realized.rows} labelled rows · ` : '') +
    `${r.features.filter((f) => f.drifted).length} of ${r.features.length} features drifted</p>` +
    `<p class="meta">window ${esc(r.windowStart)} → ${esc(r.windowEnd)} · source ${esc(r.source)} · ${esc(r.multipleTesting)}</p>` +
    `<nav class="toc"><a href="#why">Why</a><br><a href="#performance">Performance</a><br><a href="#drifted">Drifted features</a><br><a href="#tests">Every test</a><br><a href="#trend">Trend</a><br><a href="#inputs">Inputs</a></nav></header>`
  );
}

function whySection(r: MonitoringReport): string {
  const list = (xs: string[]) => (xs.length ? `<ul>${xs.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>` : '');
  return section(
    'why',
    'Why',
    `<p><strong>${esc(r.decision.reason)}</strong></p>` +
      (r.firedBy.length ? `<h3>Tests that fired</h3>${list(r.firedBy)}` : '<p>No test fired in this window.</p>') +
      (r.notes.length ? `<h3>Measured, within thresholds</h3>${list(r.notes)}` : ''),
  );
}

function performanceSection(r: MonitoringReport): string {
  const p = r.performance;
  const est = p.estimated;
  const cal = p.calibrator;
  const rows = [
    ['accuracy', est ? band(est.accuracy) : '—', p.realized ? pct(p.realized.accuracy) : '—', pct(p.reference.testAccuracy)],
    ['macro-F1', est ? band(est.macroF1) : '—', p.realized ? pct(p.realized.macroF1) : '—', '—'],
  ];
  const calibration =
    cal.kind === 'isotonic'
      ? `Isotonic calibration fitted on the validation split; it lowered the test split's ECE from ${pct(cal.eceBefore ?? 0)} to ${pct(cal.eceAfter ?? 0)}.`
      : `Raw confidence, not calibrated: ${esc(cal.why ?? '')}.`;
  const chart = est
    ? barChart({
        id: 'estimated-per-class',
        title: 'Estimated F1 per class (CBPE)',
        categories: Object.keys(est.perClassF1),
        series: [{ name: 'estimated F1', values: Object.values(est.perClassF1) }],
        min: 0,
        max: 1,
        format: pct,
      })
    : '';
  return section(
    'performance',
    'Performance without labels (CBPE)',
    `<p>Estimated from the calibrated confidence of every prediction in the window (confidence-based performance estimation, as NannyML). ` +
      `The band is the window's own 95% sampling band. Realized figures use labelled feedback since the deployment. ${calibration} ` +
      `Retraining is asked for when the whole band lies below ${pct(p.threshold)}.</p>` +
      `<div class="grid2">${table(['metric', 'estimated (95% band)', 'realized', 'test split'], rows, [false, true, true, true])}${chart}</div>`,
  );
}

function driftedSection(r: MonitoringReport): string {
  if (!r.plots.length) return section('drifted', 'Drifted features', '<p>No feature drifted in this window.</p>');
  const charts = r.plots.map((plot) => {
    if (plot.type === 'categorical') {
      return barChart({
        id: `drift-${plot.feature}`,
        title: `${plot.title}: reference vs current`,
        categories: plot.categories,
        series: [
          { name: 'reference (test split)', values: plot.reference },
          { name: 'current window', values: plot.current },
        ],
        min: 0,
        format: pct,
      });
    }
    const xs = plot.categories.map(Number);
    return lineChart({
      id: `drift-${plot.feature}`,
      title: `${plot.title}: reference vs current`,
      xLabel: plot.unit,
      series: [
        { name: 'reference (test split)', points: xs.map((x, i) => [x, plot.reference[i]!]) },
        { name: 'current window', points: xs.map((x, i) => [x, plot.current[i]!]) },
      ],
      min: 0,
      caption: 'Share of rows per bin.',
    });
  });
  return section('drifted', 'Drifted features', `<div class="grid2">${charts.join('')}</div>`);
}

/** The representation's own test: not one of the features, not part of the BH family (it decides alone, at its own threshold). */
function embeddingLine(r: MonitoringReport): string {
  const e = r.embedding;
  if (!e) return '<p>Embedding drift: not judged (too few embeddings logged on one side; see the notes).</p>';
  const badge = e.drifted ? '<span class="badge fail">DRIFT</span>' : '<span class="badge pass">ok</span>';
  return (
    `<p>Embedding drift ${badge}: a logistic-regression domain classifier on ${e.referenceRows} reference and ${e.currentRows} current ` +
    `${e.dimensions}-dimensional embeddings reaches a held-out ROC AUC of ${num(e.auc)} (drift above ${e.aucThreshold}` +
    (e.aucP !== undefined ? `, and on samples this small above shuffled labels too: p ${num(e.aucP)}` : '') +
    `); MMD² ${num(e.mmd2)} with a Gaussian kernel, permutation p ${num(e.mmdP)}.</p>`
  );
}

function testsSection(r: MonitoringReport): string {
  if (!r.features.length) return section('tests', 'Every test', '<p>Nothing was tested: too few predictions in the window.</p>');
  const rows = r.features.map((f) => [
    esc(f.title),
    esc(f.kind),
    esc(f.test.replace('_', '-')),
    num(f.value),
    String(f.threshold),
    num(f.adjustedP),
    num(f.effect),
    num(f.psi),
    f.drifted ? '<span class="badge fail">DRIFT</span>' : '<span class="badge pass">ok</span>',
  ]);
  return section(
    'tests',
    'Every test',
    `<p>Evidently's default test for the window's size (at most 1000 rows: Kolmogorov–Smirnov or chi-square, p &lt; 0.05; more: normed Wasserstein or Jensen–Shannon, ≥ 0.1), ` +
      `p-values adjusted by Benjamini–Hochberg across all features; a feature drifts only when it is both significant (adjusted p &lt; 0.05) and large (effect ≥ 0.1), ` +
      `so neither a huge window's trivial wobble nor a small window's noise is called drift. PSI is shown alongside.</p>` +
      embeddingLine(r) +
      table(['feature', 'kind', 'test', 'value', 'threshold', 'BH-adjusted p', 'effect (drift needs ≥ 0.1)', 'PSI', ''], rows, [
        false,
        false,
        false,
        true,
        true,
        true,
        true,
        true,
        false,
      ]),
  );
}

function trendSection(r: MonitoringReport): string {
  const points = r.trend.filter((t) => t.estimatedAccuracy !== null || t.realizedAccuracy !== null);
  if (points.length < 2) return section('trend', 'Trend', `<p>${r.trend.length} window(s) so far; the trend appears from the second judged window.</p>`);
  const series = [
    { name: 'estimated accuracy', points: points.flatMap((t, i): [number, number][] => (t.estimatedAccuracy !== null ? [[i + 1, t.estimatedAccuracy]] : [])) },
    { name: 'realized accuracy', points: points.flatMap((t, i): [number, number][] => (t.realizedAccuracy !== null ? [[i + 1, t.realizedAccuracy]] : [])) },
  ].filter((s) => s.points.length);
  const rows = r.trend.map((t) => [
    esc(t.windowEnd),
    `v${t.version}`,
    String(t.predictions),
    t.estimatedAccuracy === null ? '—' : pct(t.estimatedAccuracy),
    t.realizedAccuracy === null ? '—' : pct(t.realizedAccuracy),
    String(t.drifted),
    t.degraded ? 'retrain' : t.breached ? 'breached' : 'ok',
  ]);
  return section(
    'trend',
    'Trend',
    `<div class="grid2">${lineChart({ id: 'trend', title: 'Accuracy per window, oldest first', xLabel: 'window', series, min: 0, max: 1 })}` +
      `${table(['window end', 'version', 'predictions', 'estimated', 'realized', 'drifted', 'verdict'], rows, [false, false, true, true, true, true, false])}</div>`,
  );
}

function inputsSection(r: MonitoringReport): string {
  const rows = r.features
    .filter((f) => f.type === 'numeric')
    .map((f) => [esc(f.title), f.referenceMean === undefined ? '—' : num(f.referenceMean), f.currentMean === undefined ? '—' : num(f.currentMean)]);
  return section(
    'inputs',
    'Inputs and outputs at a glance',
    `<p>Repeated texts: ${pct(r.inputs.duplicateRate)} of the window (${pct(r.inputs.referenceDuplicateRate)} in the reference); empty texts: ${r.inputs.emptyTexts}.</p>` +
      table(['feature', 'reference mean', 'current mean'], rows, [false, true, true]),
  );
}

export function renderMonitoringPage(r: MonitoringReport): string {
  const body = [header(r), whySection(r), performanceSection(r), driftedSection(r), testsSection(r), trendSection(r), inputsSection(r)].join('\n');
  return reportPage(`Monitoring: ${r.model} v${r.version} ${r.windowEnd}`, body);
}
