// The default composition root: both task queues and the built-in endpoint in one process.
// One process because the embedded registry (PGlite) allows one writer; with DATABASE_URL
// (PostgreSQL) the queues can run apart: `tsx workers/main.ts control` or `... scoring`.
import { NativeConnection, Worker } from '@temporalio/worker';
import { fileURLToPath } from 'node:url';
import { createControlActivities, createScoringActivities } from '../activities';
import { loadEndpointKey } from '../adapters/endpoint/secret';
import { startEndpoint } from '../adapters/endpoint/server';
import { loadConfig, taskQueues } from '../temporal.config';
import { buildDeps } from './deps';

const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

async function main(roles: string[]) {
  const config = loadConfig();
  const deps = await buildDeps(config);
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const run = (r: string) => roles.length === 0 || roles.includes(r);
  const workers: Worker[] = [];
  if (run('control')) {
    workers.push(await Worker.create({ connection, namespace: config.temporal.namespace, taskQueue: taskQueues.control, workflowsPath, activities: createControlActivities(deps) }));
  }
  if (run('scoring')) {
    // ONNX scoring saturates cores; two at a time keeps the control queue responsive.
    workers.push(await Worker.create({ connection, namespace: config.temporal.namespace, taskQueue: taskQueues.scoring, activities: createScoringActivities(deps), maxConcurrentActivityTaskExecutions: 2 }));
  }
  const endpoint = run('endpoint')
    ? await startEndpoint({
        host: config.endpoint.host,
        port: config.endpoint.port,
        apiKey: await loadEndpointKey(config.paths.secrets, process.env),
        store: deps.store,
        registry: deps.registry,
        loadScorer: deps.loadScorer,
      })
    : null;
  console.log(`mlc worker ready: queues [${workers.map((w) => w.options.taskQueue).join(', ')}]${endpoint ? `, endpoint ${endpoint.url}` : ''}, Temporal ${config.temporal.address}, UI ${config.temporal.uiUrl}`);
  try {
    await Promise.all(workers.map((w) => w.run()));
  } finally {
    await endpoint?.close();
    await connection.close();
    await deps.close();
  }
}

main(process.argv.slice(2)).catch((err) => {
  console.error(err instanceof Error ? `${err.name}: ${err.message}` : err);
  process.exit(1);
});
