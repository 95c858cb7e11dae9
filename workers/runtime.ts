// Everything one worker process runs: the task-queue workers and the built-in endpoint,
// over one set of adapters. workers/main.ts runs it; the end-to-end test runs it in-process.
import { NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import { fileURLToPath } from 'node:url';
import { createControlActivities, createScoringActivities } from '../activities';
import { loadEndpointKey } from '../adapters/endpoint/secret';
import { DEFAULT_ENDPOINT_LIMITS, startEndpoint, type Endpoint } from '../adapters/endpoint/server';
import { scorerInstances } from '../adapters/endpoint/scorer-instances';
import { loadScorerInThread } from '../adapters/endpoint/scorer-thread';
import { taskQueues, type MlcConfig } from '../temporal.config';
import { buildDeps, type ProcessDeps } from './deps';
import { auditPageReader, deploymentResolver, latestMonitoringReader } from './serving';

export type Role = 'control' | 'scoring' | 'endpoint';
export const allRoles: Role[] = ['control', 'scoring', 'endpoint'];

export interface Runtime {
  deps: ProcessDeps;
  workers: Worker[];
  endpoint: Endpoint | null;
  /** Run the workers until they are shut down (SIGINT/SIGTERM), then release everything. */
  run(): Promise<void>;
  /** Run the workers while fn runs; for tests. */
  runUntil<T>(fn: () => Promise<T>): Promise<T>;
}

const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

export async function startRuntime(config: MlcConfig, roles: Role[] = allRoles, options: { workflowBundle?: WorkflowBundle } = {}): Promise<Runtime> {
  const deps = await buildDeps(config);
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const namespace = config.temporal.namespace;
  // The payload codec: histories hold ciphertext. A prebuilt workflowBundle must have been
  // bundled with its failureConverterPath (adapters/temporal-codec/data-converter.ts).
  const { dataConverter } = deps;
  const workers: Worker[] = [];
  if (roles.includes('control')) {
    const workflows = options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath };
    workers.push(
      await Worker.create({
        connection,
        namespace,
        dataConverter,
        taskQueue: taskQueues.control,
        ...workflows,
        activities: createControlActivities(deps),
        // The job watcher's heartbeat carries the training's progress (epoch, step, loss) for
        // `mlc status` and the Web UI: let it reach the server every 10 s, not only every 24 s
        // (0.8 of its 30-second heartbeat timeout). One small call per watched job per 10 s.
        maxHeartbeatThrottleInterval: '10 seconds',
      }),
    );
  }
  if (roles.includes('scoring')) {
    // ONNX scoring saturates cores; two at a time keeps the machine responsive.
    workers.push(
      await Worker.create({
        connection,
        namespace,
        dataConverter,
        taskQueue: taskQueues.scoring,
        activities: createScoringActivities(deps),
        maxConcurrentActivityTaskExecutions: 2,
      }),
    );
  }
  const endpoint = roles.includes('endpoint')
    ? await startEndpoint({
        host: config.endpoint.host,
        port: config.endpoint.port,
        apiKey: await loadEndpointKey(config.paths.secrets, process.env),
        resolveDeployment: deploymentResolver(deps.registry, deps.store),
        auditPage: auditPageReader(deps.registry, deps.store),
        // endpoint.scoring (config/schema.ts): copies in worker threads, or one on the event loop.
        loadScorer: config.endpoint.scoring === 'threads' ? scorerInstances(loadScorerInThread, config.endpoint.scoringThreads) : deps.loadScorer,
        logPredictions: (records) => deps.registry.logPredictions(records),
        predictionLogging: config.endpoint.predictionLog,
        addFeedback: (records) => deps.registry.addFeedback(records),
        monitoring: { read: latestMonitoringReader(deps.registry) },
        // Rate, size, time, load-shedding and batching limits (adapters/endpoint/limits.ts).
        limits: DEFAULT_ENDPOINT_LIMITS,
      })
    : null;
  const release = async () => {
    await endpoint?.close();
    await connection.close().catch(() => undefined);
    await deps.close();
  };
  const runAll = (): Promise<unknown> => Promise.all(workers.map((w) => w.run()));
  return {
    deps,
    workers,
    endpoint,
    async run() {
      try {
        // An endpoint-only process has no worker whose run() holds it open; it serves until
        // the same signals stop the workers.
        await (workers.length ? runAll() : untilShutdownSignal());
      } finally {
        await release();
      }
    },
    async runUntil<T>(fn: () => Promise<T>) {
      const running = runAll();
      try {
        return await fn();
      } finally {
        workers.forEach((w) => w.shutdown());
        await running;
        await release();
      }
    },
  };
}

function untilShutdownSignal(signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM']): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      signals.forEach((s) => process.off(s, stop));
      resolve();
    };
    signals.forEach((s) => process.on(s, stop));
  });
}
