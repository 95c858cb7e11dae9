// The shell every generated report page shares (the audit package today, the monitoring report
// next): one self-contained file with its stylesheet inline and a Content-Security-Policy
// that forbids every fetch — no script, no font, no image but data: URLs — so a page opened
// from an NFS share, an e-mail or the endpoint cannot call anywhere, whatever its data says.
import { esc } from './svg';

export const REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

export const reportStylesheet = `
:root { color-scheme: light; --ink: #1d2433; --muted: #5b6475; --line: #d9dde5; --good: #1a7f37; --bad: #b42318; --panel: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.5 system-ui, -apple-system, "Segoe UI", "Noto Sans", "Noto Sans Thai", sans-serif; color: var(--ink); background: #fff; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 32px 64px; }
header.report { border-bottom: 2px solid var(--ink); margin-bottom: 16px; padding-bottom: 8px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 32px 0 8px; padding-top: 8px; border-top: 1px solid var(--line); }
h3 { font-size: 15px; margin: 16px 0 6px; }
p.meta, .muted { color: var(--muted); }
nav.toc { columns: 3; font-size: 13px; margin: 8px 0 0; }
nav.toc a { color: var(--ink); }
.verdict { display: inline-block; padding: 2px 10px; border-radius: 12px; font-weight: 600; color: #fff; }
.verdict.pass, .pass { background: var(--good); color: #fff; }
.verdict.fail, .fail { background: var(--bad); color: #fff; }
.badge { padding: 0 6px; border-radius: 8px; font-size: 12px; }
table { border-collapse: collapse; margin: 8px 0 12px; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: var(--panel); }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.grid2 { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
figure.chart { margin: 8px 0; width: min-content; }
figure.chart figcaption { color: var(--muted); font-size: 12px; }
figure.chart svg { font: 12px system-ui, "Noto Sans Thai", sans-serif; background: #fff; }
svg .chart-title { font-weight: 600; font-size: 13px; }
svg .tick, svg .value { fill: var(--muted); font-size: 11px; }
svg .axis-label { fill: var(--muted); }
svg .grid { stroke: #eef0f4; }
svg .axis, svg .zero { stroke: #8a93a6; }
svg .whisker { stroke: var(--ink); stroke-width: 1.3; fill: none; }
svg .line { fill: none; stroke-width: 2; }
svg .frame { fill: none; stroke: #8a93a6; }
svg .diagonal { stroke: var(--ink); stroke-dasharray: 4 3; fill: none; }
svg .gap { fill: rgba(213, 94, 0, 0.35); stroke: #d55e00; stroke-width: 0.5; }
svg .cell { stroke: #fff; }
svg .on-dark { fill: #fff; }
.not-recorded { color: var(--muted); font-style: italic; }
.tokens { font-size: 15px; line-height: 2; padding: 4px 0; word-break: break-word; }
.tokens span { border-radius: 3px; padding: 1px 0; white-space: pre-wrap; }
.tokens span.unread { color: var(--muted); text-decoration: line-through dotted; }
.example { border: 1px solid var(--line); border-radius: 6px; padding: 6px 10px; margin: 8px 0; }
.example .why { font-size: 12px; color: var(--muted); }
.legend-swatch { display: inline-block; width: 28px; height: 12px; vertical-align: middle; border-radius: 2px; }
code, pre { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; }
pre { background: var(--panel); padding: 8px; overflow-x: auto; white-space: pre-wrap; }
.warning { color: var(--bad); }
@media print { nav.toc { display: none; } h2 { break-before: auto; } figure.chart { break-inside: avoid; } }
`;

/** A whole page: `body` is trusted HTML built with esc(); the title is escaped here. */
export function reportPage(title: string, body: string): string {
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="referrer" content="no-referrer">',
    `<title>${esc(title)}</title>`,
    `<style>${reportStylesheet}</style>`,
    '</head>',
    `<body><main>${body}</main></body>`,
    '</html>',
    '',
  ].join('\n');
}
