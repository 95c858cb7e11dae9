// The audit package's plain-text summary (the page with plots is audit-package/html.ts): the
// headline numbers in markdown, for a diff, an e-mail or a terminal.
import type { EvaluationFile, EvaluateInput } from './evaluate';
import { confusionTable, metricsTable, pct, perClassTable } from './metrics-table';

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
