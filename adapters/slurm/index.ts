// The compute adapter's front door: one executor per cluster config. The worker keeps one per
// cluster name for its whole life, so every workflow waiting on that cluster shares one SSH
// connection and one poller.
import type { ClusterConfig } from '../../temporal.config';
import { LocalExecutor } from './local-executor';
import type { ClusterExecutor } from './port';
import { SlurmExecutor } from './executor';

export function createExecutor(config: ClusterConfig): ClusterExecutor {
  switch (config.executor) {
    case 'slurm':
      return new SlurmExecutor(config);
    case 'local':
      return new LocalExecutor(config);
  }
}

export { SlurmExecutor } from './executor';
export type { SlurmExecutorOptions } from './executor';
export { LocalExecutor } from './local-executor';
export * from './errors';
export type * from './port';
