// How the built-in endpoint's event loop fared since it was last scraped: the longest delay
// (prom-client's nodejs_eventloop_lag_max_seconds, reset at each scrape) and the p99, beside the
// delay past which the endpoint sheds requests with 503, and how many it refused. The demo prints
// it at its end, where nothing scraped before: the whole run, in which a monitoring computation
// on the event loop once pushed the delay past the bound (activities/monitoring.ts).
//   node --import tsx scripts/endpoint-lag.ts
import { DEFAULT_ENDPOINT_LIMITS } from '../adapters/endpoint/limits';
import { parsePrometheusText } from '../adapters/endpoint/prometheus-text';
import { endpointClient } from '../cli/endpoint-client';
import { messageOf } from '../domain/errors';

async function eventLoopLine(): Promise<string> {
  const endpoint = await endpointClient();
  const url = `${endpoint.base}/metrics`;
  const samples = parsePrometheusText(await endpoint.getText('/metrics'));
  const seconds = (name: string) => {
    const found = samples.find((s) => s.name === name);
    if (!found) throw new Error(`${url} has no ${name}: is it a worker started before the endpoint reported its event loop? Restart it (npm run worker)`);
    return found.value;
  };
  const ms = (s: number) => Math.round(s * 1000).toLocaleString('en-US');
  const refused = samples.filter((s) => s.name === 'mlc_endpoint_refused_total').reduce((sum, s) => sum + s.value, 0);
  return (
    `endpoint event loop since its last scrape: longest delay ${ms(seconds('nodejs_eventloop_lag_max_seconds'))} ms, ` +
    `p99 ${ms(seconds('nodejs_eventloop_lag_p99_seconds'))} ms (it sheds requests past ${DEFAULT_ENDPOINT_LIMITS.pressure.maxEventLoopDelayMs.toLocaleString('en-US')} ms); ` +
    `${refused} request${refused === 1 ? '' : 's'} refused (429 or 503)`
  );
}

try {
  console.log(await eventLoopLine());
} catch (e) {
  console.error(`endpoint-lag: ${messageOf(e)}`);
  process.exitCode = 1;
}
