// The audit package's plain-text summary (the page with plots is audit-package/html.ts): the
// headline numbers in markdown, for a diff, an e-mail or a terminal.
import type { EvaluationFile, EvaluateInput } from './evaluate';
import { confusionTable, metricsTable, pct, perClassTable } from './metrics-table';
import type { PrecisionResult } from './precision-comparison';

/** fp32 next to int8 on the test split; the spec's serving.precision picks the deployed one. */
function precisionSection(results: PrecisionResult[] | undefined): string[] {
  if (!results?.length) return [];
  const served = results.find((r) => r.served);
  const rows = results.map(
    (r) => `| ${r.precision}${r.served ? ' (served)' : ''} | ${pct(r.accuracy)} | ${pct(r.macro_f1)} | ${r.textsPerSecond.toFixed(0)} | ${pct(r.agreement)} |`,
  );
  const others = served ? results.filter((r) => !r.served) : [];
  const deltas = others.map(
    (r) =>
      `${r.precision}: macro-F1 ${((r.macro_f1 - served!.macro_f1) * 100).toFixed(2)} points, ${(r.textsPerSecond / Math.max(served!.textsPerSecond, 1e-9)).toFixed(2)}× the throughput of ${served!.precision}.`,
  );
  return [
    '## Serving precision',
    '',
    "Both ONNX files the job wrote, scored on the test split by the Node scorer on the evaluating worker (texts/s: batches of 32, after a warm-up; a busy worker lowers both). The spec's `serving.precision` chooses which one is deployed; the metrics above are the served one's.",
    '',
    '| precision | accuracy | macro-F1 | texts/s | same label as served |',
    '|---|---|---|---|---|',
    ...rows,
    ...(deltas.length ? ['', ...deltas] : []),
    '',
  ];
}

export function renderModelCard(e: EvaluationFile, input: EvaluateInput): string {
  const { report } = e;
  const lines = [
    `# Model card: ${e.model} version ${e.version}`,
    '',
    `Run \`${input.runKey}\`, artifacts in \`${input.runDir}\`, test rows: ${report.n}.`,
    '',
    'The full audit package, with plots, calibration, the champion comparison, token attributions, the data report and lineage, is `audit-package.html` beside this file (its data: `audit-package.json`).',
    '',
    '## Metrics on the held-out test split (95% bootstrap interval)',
    '',
    ...metricsTable(report, e.intervals),
    '',
    '## Gates',
    '',
    ...(e.gates.results.length
      ? e.gates.results.map((g) => `- ${g.passed ? 'PASS' : 'FAIL'} ${g.metric} = ${g.value.toFixed(4)} (min ${g.min})`)
      : ['- none set in the spec']),
    '',
    ...precisionSection(e.precisions),
    '## Per class',
    '',
    ...perClassTable(report),
    '',
    '## Per slice',
    '',
    '| slice | rows | accuracy | macro-F1 |',
    '|---|---|---|---|',
    ...e.slices.map((x) => `| ${x.slice} | ${x.n} | ${pct(x.accuracy)} | ${pct(x.macro_f1)} |`),
    '',
    '## Confusion matrix (rows: truth, columns: predicted)',
    '',
    ...confusionTable(report),
    '',
    '## Most confident errors',
    '',
    ...e.errors
      .slice(0, 10)
      .map((x) => `- truth **${x.label}**, predicted **${x.predicted}** (${pct(x.confidence)}): ${x.text.replace(/\s+/g, ' ').slice(0, 160)}`),
    '',
  ];
  return lines.join('\n');
}
