// The Temporal SDK's own metrics for Prometheus (task slots, pollers, latencies, activity and
// workflow-task outcomes), served by the SDK's runtime. It is installed once per process, before
// any connection: by workers/main.ts, never by startRuntime, which tests call several times.
import { Runtime } from '@temporalio/worker';

export function installWorkerMetrics(address: string): void {
  try {
    Runtime.install({ telemetryOptions: { metrics: { prometheus: { bindAddress: address } } } });
  } catch (error) {
    throw new Error(
      `the worker's metrics cannot be served at ${address} (${(error as Error).message}): set MLC_WORKER_METRICS_ADDRESS (workerMetricsAddress: in the config file) to a free host:port, or leave it unset for none`,
      { cause: error },
    );
  }
}
