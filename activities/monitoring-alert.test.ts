import { MockActivityEnvironment } from '@temporalio/testing';
import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { MonitoringReport } from '../domain/monitoring/report';
import { alertWebhookUrl, sendAlert } from './monitoring-alert';

const report = { model: 'm', degraded: true } as MonitoringReport;
const env = new MockActivityEnvironment();

describe('the alert webhook', () => {
  it('takes the URL from the named variable first, then from the configuration', () => {
    const config = { monitoring: { alertWebhookUrl: 'https://hooks.example/plain', alertWebhookUrlEnv: 'MLC_ALERT_URL' } };
    expect(alertWebhookUrl(config, { MLC_ALERT_URL: 'https://hooks.example/T0/secret' })).toBe('https://hooks.example/T0/secret');
    expect(alertWebhookUrl(config, {})).toBe('https://hooks.example/plain');
    expect(alertWebhookUrl({}, {})).toBeUndefined();
  });

  it('reports sent, refused or unreachable without throwing: the report is saved either way', async () => {
    const statuses = [204, 500];
    const server = createServer((req, res) => {
      req.resume();
      res.writeHead(statuses.shift() ?? 500).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
    try {
      expect(await env.run(() => sendAlert(url, report, 'monitoring/m/r.json'))).toBe('sent');
      expect(await env.run(() => sendAlert(url, report, 'monitoring/m/r.json'))).toBe('failed');
    } finally {
      await new Promise((r) => server.close(r));
    }
    expect(await env.run(() => sendAlert(url, report, 'monitoring/m/r.json'))).toBe('failed');
    expect(await env.run(() => sendAlert(undefined, report, 'monitoring/m/r.json'))).toBe('not configured');
  });
});
