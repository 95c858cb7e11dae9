// The audit page: one self-contained HTML file an auditor opens before approving or rejecting
// a version. A pure function of audit-package.json; the charts are inline SVG, the page makes
// no request (see page.ts).
import type { AuditPackage } from './model';
import { pct } from './format';
import { reportPage } from './page';
import { calibrationSection, classesSection, confusionSection, errorsSection, gatesSection, metricsSection, slicesSection } from './sections-metrics';
import { championSection, dataSection, explanationsSection, lineageSection, trainingSection } from './sections-context';
import { esc } from './svg';

const contents: [string, string][] = [
  ['metrics', 'Metrics'],
  ['gates', 'Gates'],
  ['classes', 'Per class'],
  ['confusion', 'Confusion matrix'],
  ['calibration', 'Calibration'],
  ['training', 'Training curves'],
  ['slices', 'Per slice'],
  ['champion', 'Champion vs challenger'],
  ['why', 'Why it erred'],
  ['errors', 'Most confident errors'],
  ['data', 'Data report'],
  ['lineage', 'Lineage'],
];

function header(p: AuditPackage): string {
  const verdict = p.gates.passed ? '<span class="verdict pass">gates passed</span>' : '<span class="verdict fail">gates FAILED</span>';
  const champion =
    p.champion.status === 'compared' ? ` · champion v${p.champion.champion.version} ${pct(p.champion.champion.report.macro_f1)} macro F1 on the same rows` : '';
  return (
    `<header class="report"><h1>Audit package: ${esc(p.model)} version ${p.version}</h1>` +
    `<p>${verdict} · accuracy ${pct(p.report.accuracy)} · macro F1 ${pct(p.report.macro_f1)} · ${p.report.n} test rows · ECE ${pct(p.calibration.ece)}${esc(champion)}</p>` +
    `<p class="meta">run ${esc(p.runKey)} · written ${esc(p.generatedAt)}</p>` +
    `<nav class="toc">${contents.map(([id, name]) => `<a href="#${id}">${esc(name)}</a>`).join('<br>')}</nav></header>`
  );
}

export function renderAuditPage(p: AuditPackage): string {
  const body = [
    header(p),
    metricsSection(p),
    gatesSection(p),
    classesSection(p),
    confusionSection(p),
    calibrationSection(p),
    trainingSection(p),
    slicesSection(p),
    championSection(p),
    explanationsSection(p),
    errorsSection(p),
    dataSection(p),
    lineageSection(p),
  ].join('\n');
  return reportPage(`Audit package: ${p.model} v${p.version}`, body);
}
