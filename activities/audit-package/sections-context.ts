// The audit page's sections about where the version came from and how it compares: training
// curves, the champion, token attributions, the data report and lineage.
import type { MetricName } from '../../domain/spec';
import type { AuditPackage, Explanation } from './model';
import { notRecorded, orNotRecorded, pct, pp, range, section, table } from './format';
import { barChart, esc, lineChart } from './svg';

const metricNames: [MetricName, string][] = [
  ['accuracy', 'accuracy'],
  ['macro_precision', 'macro precision'],
  ['macro_recall', 'macro recall'],
  ['macro_f1', 'macro F1'],
];

function series(rows: Record<string, number>[], x: string, keys: string[]) {
  return keys.map((k) => ({
    name: k,
    points: rows.filter((r) => typeof r[x] === 'number' && typeof r[k] === 'number').map((r) => [r[x]!, r[k]!] as [number, number]),
  }));
}

export function trainingSection(p: AuditPackage): string {
  const { epochs, steps, best, stoppedEarly } = p.training;
  if (epochs.length === 0 && steps.length === 0)
    return section('training', 'Training curves', `<p>Per-epoch history: ${notRecorded} (metrics.json has none).</p>`);
  const keys = [...new Set(epochs.flatMap((r) => Object.keys(r)))];
  const losses = keys.filter((k) => k.endsWith('loss'));
  const validation = keys.filter((k) => k.startsWith('val_') && !k.endsWith('loss'));
  const charts: string[] = [];
  if (losses.length)
    charts.push(lineChart({ id: 'loss-per-epoch', title: 'Loss per epoch', xLabel: 'epoch', series: series(epochs, 'epoch', losses), min: 0 }));
  if (validation.length) {
    charts.push(
      lineChart({
        id: 'validation-per-epoch',
        title: 'Validation metrics per epoch',
        xLabel: 'epoch',
        series: series(epochs, 'epoch', validation),
        min: 0,
        max: 1,
      }),
    );
  }
  if (steps.length)
    charts.push(lineChart({ id: 'loss-per-step', title: 'Training loss per step', xLabel: 'step', series: series(steps, 'step', ['loss']), min: 0 }));
  const facts = [
    `best epoch ${best?.epoch ?? '—'} (validation macro F1 ${best?.val_macro_f1 != null ? pct(best.val_macro_f1) : '—'})`,
    stoppedEarly === null ? 'early stopping: not recorded' : stoppedEarly ? 'stopped early' : 'ran every epoch',
    steps.length ? `${steps.length} step records` : 'per-step loss: not recorded',
  ];
  return section('training', 'Training curves', `<p class="muted">${esc(facts.join(' · '))}</p><div class="grid2">${charts.join('')}</div>`);
}

export function championSection(p: AuditPackage): string {
  const c = p.champion;
  if (c.status !== 'compared') return section('champion', 'Champion vs challenger', `<p>${esc(c.reason)}</p>`);
  const ch = c.champion;
  const rows = metricNames.map(([k, name]) => [
    esc(name),
    `${pct(ch.report[k])} <span class="muted">(${range(ch.intervals[k])})</span>`,
    `${pct(p.report[k])} <span class="muted">(${range(p.intervals.metrics[k])})</span>`,
    `${pp(ch.differences[k].value)} <span class="muted">(${range(ch.differences[k], pp)})</span>`,
  ]);
  const both = barChart({
    id: 'champion-vs-challenger',
    title: `Champion v${ch.version} and challenger v${p.version} on the same ${p.report.n} rows`,
    categories: metricNames.map(([, name]) => name),
    series: [
      {
        name: `champion v${ch.version}`,
        values: metricNames.map(([k]) => ch.report[k]),
        lower: metricNames.map(([k]) => ch.intervals[k].lower),
        upper: metricNames.map(([k]) => ch.intervals[k].upper),
      },
      {
        name: `challenger v${p.version}`,
        values: metricNames.map(([k]) => p.report[k]),
        lower: metricNames.map(([k]) => p.intervals.metrics[k].lower),
        upper: metricNames.map(([k]) => p.intervals.metrics[k].upper),
      },
    ],
    min: 0,
    max: 1,
    format: pct,
  });
  const spread = Math.max(0.05, ...metricNames.flatMap(([k]) => [Math.abs(ch.differences[k].lower), Math.abs(ch.differences[k].upper)]));
  const diff = barChart({
    id: 'champion-difference',
    title: 'Challenger minus champion (paired bootstrap)',
    categories: metricNames.map(([, name]) => name),
    series: [
      {
        name: 'difference',
        values: metricNames.map(([k]) => ch.differences[k].value),
        lower: metricNames.map(([k]) => ch.differences[k].lower),
        upper: metricNames.map(([k]) => ch.differences[k].upper),
      },
    ],
    min: -spread,
    max: spread,
    format: pp,
    caption: 'Both models resampled on the same rows; an interval that does not cross zero is a difference this test split supports.',
  });
  const perClass = table(
    ['label', `F1 champion v${ch.version}`, `F1 challenger v${p.version}`],
    p.labels.map((l) => [esc(l), pct(ch.report.perClass[l]?.f1 ?? 0), pct(p.report.perClass[l]!.f1)]),
    [false, true, true],
  );
  const intro = `<p>The deployed version v${ch.version} (${esc(ch.target)}, deployed ${esc(ch.deployedAt)}, model.onnx sha256 <code>${esc(ch.sha256.slice(0, 16))}…</code>) was scored on this version's test split, so both are judged on the same ${p.report.n} rows. They agree on ${pct(ch.agreement)} of them.</p>`;
  return section(
    'champion',
    'Champion vs challenger',
    intro +
      table(['metric', `champion v${ch.version}`, `challenger v${p.version}`, 'difference (interval)'], rows, [false, true, true, true]) +
      `<div class="grid2">${both}${diff}</div>${perClass}`,
  );
}

function tokenSpans(e: Explanation): string {
  const weights = e.attribution.tokens.map((t) => Math.abs(t.weight ?? 0));
  const max = Math.max(1e-6, ...weights);
  return e.attribution.tokens
    .map((t) => {
      if (t.weight === null) return `<span class="unread" title="past the model's maximum length: not read">${esc(t.text)}</span>`;
      const alpha = t.weight === 0 ? 0 : 0.08 + (0.72 * Math.abs(t.weight)) / max;
      const colour = t.weight > 0 ? `rgba(213,94,0,${alpha.toFixed(3)})` : `rgba(0,114,178,${alpha.toFixed(3)})`;
      return `<span style="background:${colour}" title="${esc(`${t.weight >= 0 ? '+' : ''}${t.weight.toFixed(4)}`)}">${esc(t.text)}</span>`;
    })
    .join('');
}

export function explanationsSection(p: AuditPackage): string {
  const x = p.explanations;
  if (x.status !== 'explained') return section('why', 'Why it erred', `<p>Token attributions: ${esc(x.reason)}</p>`);
  const legendHtml = `<p class="muted"><span class="legend-swatch" style="background:rgba(213,94,0,0.7)"></span> pushed the model towards the label it predicted · <span class="legend-swatch" style="background:rgba(0,114,178,0.7)"></span> pulled it away · hover a piece for its weight. ${esc(x.method)}</p>`;
  const block = (e: Explanation) =>
    `<div class="example"><div class="why">${e.kind === 'error' ? 'confident error' : 'class sample'} · truth <b>${esc(e.label)}</b> · predicted <b>${esc(e.predicted)}</b> (${pct(e.confidence)})</div><div class="tokens" lang="th">${tokenSpans(e)}</div></div>`;
  const errors = x.items.filter((e) => e.kind === 'error');
  const samples = x.items.filter((e) => e.kind === 'sample');
  return section(
    'why',
    'Why it erred',
    legendHtml +
      `<h3>The most confident errors</h3>${errors.length ? errors.map(block).join('') : '<p>No errors to explain.</p>'}` +
      `<h3>A sample per class</h3>${samples.map(block).join('')}`,
  );
}

export function dataSection(p: AuditPackage): string {
  const d = p.data;
  if (!d) return section('data', 'Data report', `<p>The dataset's report.json: ${notRecorded}.</p>`);
  const splits = ['train', 'valid', 'test'] as const;
  const counts = table(
    ['label', ...splits, 'total'],
    p.labels.map((l) => {
      const n = splits.map((s) => d.perLabel[s]?.[l] ?? 0);
      return [esc(l), ...n.map(String), String(n.reduce((a, b) => a + b, 0))];
    }),
    [false, true, true, true, true],
  );
  const chart = barChart({
    id: 'data-per-label',
    title: 'Rows per label and split',
    categories: p.labels,
    series: splits.map((s) => ({ name: s, values: p.labels.map((l) => d.perLabel[s]?.[l] ?? 0) })),
    format: (x) => x.toFixed(0),
  });
  const quarantined = Object.entries(d.quarantinedByReason);
  const facts = table(
    ['', ''],
    [
      ['rows read', String(d.input)],
      ['rows kept', String(d.kept)],
      ['exact duplicates removed', String(d.duplicatesRemoved)],
      ['class imbalance (largest / smallest label)', d.imbalance === null ? 'undefined: a label has no rows' : `${d.imbalance}:1`],
    ],
    [false, true],
  );
  const reasons = quarantined.length
    ? table(
        ['quarantine reason', 'rows'],
        quarantined.map(([r, n]) => [esc(r), String(n)]),
        [false, true],
      )
    : '';
  const warnings = d.warnings.length ? `<ul>${d.warnings.map((w) => `<li class="warning">${esc(w)}</li>`).join('')}</ul>` : '<p>No warnings.</p>';
  return section('data', 'Data report', `<div class="grid2">${counts}${facts}${reasons}</div>${chart}<h3>Warnings</h3>${warnings}`);
}

/** The weights training began with: an earlier version's (a warm start), a pretrained encoder, or none. */
function startedFrom(l: AuditPackage['lineage']): string {
  if (l.warmStart) {
    const sha = l.warmStart.modelSha256 ? `, its <code>model.pt</code> sha256 <code>${esc(l.warmStart.modelSha256)}</code>` : '';
    return `the weights and tokenizer of run <code>${esc(l.warmStart.run)}</code> (a warm start${sha})`;
  }
  if (l.pretrainedDir) return `the pretrained encoder in <code>${esc(l.pretrainedDir)}</code>`;
  return 'random weights (trained from scratch)';
}

export function lineageSection(p: AuditPackage): string {
  const l = p.lineage;
  const versions = (v: Record<string, string>) =>
    Object.keys(v).length
      ? Object.entries(v)
          .map(([k, x]) => `${esc(k)} ${esc(x)}`)
          .join(', ')
      : notRecorded;
  const rows: [string, string][] = [
    ['model, version', `${esc(p.model)} v${p.version}`],
    ['run', `${esc(p.runKey)}<br><code>${esc(p.runUri)}</code>`],
    ['dataset hash', l.datasetHash ? `<code>${esc(l.datasetHash)}</code>` : notRecorded],
    ['dataset folder', `<code>${esc(p.datasetUri)}</code>`],
    ['started from', startedFrom(l)],
    ['git commit of the training code', l.gitCommit ? `<code>${esc(l.gitCommit)}</code>` : notRecorded],
    ['cluster', orNotRecorded(l.cluster)],
    ['SLURM job id', orNotRecorded(l.slurmJobId)],
    ['node', orNotRecorded(l.node)],
    ['training duration', l.trainSeconds === null ? notRecorded : `${l.trainSeconds.toFixed(1)} s`],
    ['device, precision', l.device || l.precision ? `${orNotRecorded(l.device)}, ${orNotRecorded(l.precision)}` : notRecorded],
    ['training software (Python, torch, onnxruntime)', versions(l.trainingVersions)],
    ['evaluation software', versions(l.evaluationVersions)],
    ['package written', esc(p.generatedAt)],
  ];
  const params = l.params
    ? table(
        ['training parameter', 'value'],
        Object.entries(l.params).map(([k, v]) => [esc(k), `<code>${esc(JSON.stringify(v))}</code>`]),
      )
    : `<p>Training parameters: ${notRecorded}</p>`;
  return section(
    'lineage',
    'Lineage',
    table(
      ['', ''],
      rows.map(([k, v]) => [esc(k), v]),
    ) + params,
  );
}
