// What `mlc monitor` and `mlc status` print from stored reports: the trend oldest first, the
// verdict words, and the page beside each report; reports from before pages existed still list.
import { describe, expect, it } from 'vitest';
import { MONITORING_REPORT_SCHEMA, summarizeStoredReport } from '../domain/monitoring/report';
import { loadConfig } from '../temporal.config';
import { formatRun, formatTrend, pageLocation } from './monitor';

const stored = (key: string, windowEnd: string, report: Record<string, unknown>, degraded = false) => ({
  reportKey: `monitoring/m/${key}.json`,
  version: 3,
  windowStart: '2026-05-01T00:00:00.000Z',
  windowEnd,
  degraded,
  createdAt: windowEnd,
  report,
});

const current = (estimated: number, o: Record<string, unknown> = {}) => ({
  schema: MONITORING_REPORT_SCHEMA,
  judged: true,
  driftJudged: true,
  breached: false,
  predictions: 1200,
  performance: { estimated: { accuracy: { value: estimated, lower: estimated - 0.02, upper: estimated + 0.02 } }, realized: null },
  features: [{ drifted: true }, { drifted: false }],
  movedMost: 'chars',
  reasons: ['input "text length" (chars) drifted: …'],
  ...o,
});

const runs = [
  summarizeStoredReport(stored('r3', '2026-05-01T03:00:00.000Z', current(0.61, { breached: true }), true)),
  summarizeStoredReport(stored('r2', '2026-05-01T02:00:00.000Z', current(0.8))),
  // Written before this schema: no estimate, no page, its verdict from the degraded column.
  summarizeStoredReport(stored('r1', '2026-05-01T01:00:00.000Z', { feedbackAccuracy: 0.9, predictions: 40, reasons: ['PSI 0.02'] })),
];

describe('mlc monitor', () => {
  it('lists the trend oldest first, with estimated and realized accuracy and a verdict', () => {
    const lines = formatTrend(runs).split('\n');
    expect(lines[0]).toMatch(/^window end\s+ver\s+predictions\s+estimated\s+realized\s+drifted\s+verdict$/);
    expect(lines.slice(1).map((l) => l.slice(0, 24))).toEqual(['2026-05-01T01:00:00.000Z', '2026-05-01T02:00:00.000Z', '2026-05-01T03:00:00.000Z']);
    expect(lines[1]).toMatch(/v3\s+40\s+—\s+90\.0%\s+0\s+ok$/);
    expect(lines[2]).toMatch(/v3\s+1200\s+80\.0% █{16}·{4}\s+—\s+1\s+ok$/);
    expect(lines[3]).toMatch(/61\.0% █{12}·{8}\s+—\s+1\s+RETRAIN$/);
  });

  it('says the verdict, the window, the estimate with its band, and what moved most', () => {
    expect(formatRun(runs[0]!)).toBe(
      'DEGRADED (retrain requested): version 3, 1200 predictions from 2026-05-01T00:00:00.000Z to 2026-05-01T03:00:00.000Z\n' +
        '  estimated accuracy 61.0% [59.0% – 63.0%], realized —; 1 feature(s) drifted, moved most: chars',
    );
  });

  it('links the page beside a report, and the JSON of a report from before pages', () => {
    const config = loadConfig({ ...process.env, MLC_CONFIG: '', MLC_ARTIFACTS: '/srv/mlc/artifacts' });
    expect(runs[0]!.pageKey).toBe('monitoring/m/r3.html');
    expect(pageLocation({ ...config, paths: { ...config.paths, artifacts: '/srv/mlc/artifacts' } }, runs[0]!)).toBe('/srv/mlc/artifacts/monitoring/m/r3.html');
    expect(runs[2]!.pageKey).toBeNull();
    expect(pageLocation({ ...config, paths: { ...config.paths, artifacts: '/srv/mlc/artifacts' } }, runs[2]!)).toBe('/srv/mlc/artifacts/monitoring/m/r1.json');
  });
});
