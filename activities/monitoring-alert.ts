// The alert webhook: a degraded report, as JSON, POSTed to the URL in the configuration
// (monitoring.alertWebhookUrl, or the variable monitoring.alertWebhookUrlEnv names) — a chat
// bridge, a pager, an incident tool. The URL may carry a token, so it never appears in results,
// logs or workflow history; only whether it was sent.
import { log } from '@temporalio/activity';
import type { MonitoringReport } from '../domain/monitoring/report';
import type { MlcConfig } from '../temporal.config';

/** The configured URL: from the variable `monitoring.alertWebhookUrlEnv` names when set, else `monitoring.alertWebhookUrl`. */
export function alertWebhookUrl(config: Pick<MlcConfig, 'monitoring'>, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const fromEnv = config.monitoring?.alertWebhookUrlEnv ? env[config.monitoring.alertWebhookUrlEnv] : undefined;
  return fromEnv || config.monitoring?.alertWebhookUrl;
}

/** Long enough for a chat bridge on a slow day; short enough not to hold the activity. */
const ALERT_TIMEOUT_MS = 10_000;

/**
 * Sends once per report; a retried activity sends again with the same Idempotency-Key (the
 * report key), so a receiver that honours the header sees one alert. A failure is logged and
 * reported, never thrown: the report is already saved and the retrain decision stands.
 */
export async function sendAlert(url: string | undefined, report: MonitoringReport, reportKey: string): Promise<'sent' | 'failed' | 'not configured'> {
  if (!url) return 'not configured';
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': reportKey, 'user-agent': 'mlc-monitor' },
      body: JSON.stringify({ event: 'mlc.monitoring.degraded', reportKey, report }),
      signal: AbortSignal.timeout(ALERT_TIMEOUT_MS),
      redirect: 'error',
    });
    if (res.ok) return 'sent';
    log.warn('the alert webhook refused the monitoring report', { model: report.model, status: res.status });
  } catch (e) {
    log.warn('the alert webhook could not be reached', { model: report.model, error: (e as Error).name });
  }
  return 'failed';
}
