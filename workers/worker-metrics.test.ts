import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { expect, it } from 'vitest';
import { installWorkerMetrics } from './worker-metrics';

it('names the address and the setting to change when the metrics cannot be served there', async () => {
  const taken = createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
  const address = `127.0.0.1:${(taken.address() as AddressInfo).port}`;
  try {
    expect(() => installWorkerMetrics(address)).toThrow(
      new RegExp(
        `^the worker's metrics cannot be served at ${address} \\(.*Address already in use.*\\): set MLC_WORKER_METRICS_ADDRESS .* to a free host:port, or leave it unset for none$`,
      ),
    );
  } finally {
    taken.close();
  }
});
