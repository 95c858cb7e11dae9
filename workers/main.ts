// The default composition root: `npm run worker` runs both task queues and the built-in
// endpoint in one process, because the embedded registry (PGlite) allows one process. With
// DATABASE_URL (PostgreSQL) roles can run apart: `npm run worker -- control`, `-- scoring`,
// `-- endpoint`. With workerMetricsAddress the Temporal SDK serves its own metrics for Prometheus.
import { loadConfig } from '../temporal.config';
import { allRoles, startRuntime, type Role } from './runtime';
import { installWorkerMetrics } from './worker-metrics';

async function main(args: string[]) {
  const unknown = args.filter((a) => !allRoles.includes(a as Role));
  if (unknown.length) throw new Error(`unknown role ${unknown.join(', ')}; roles: ${allRoles.join(', ')}`);
  const config = loadConfig();
  const metrics = config.workerMetricsAddress;
  if (metrics) installWorkerMetrics(metrics); // before any connection
  const runtime = await startRuntime(config, args.length ? (args as Role[]) : allRoles);
  console.log(
    `mlc worker ready: queues [${runtime.workers.map((w) => w.options.taskQueue).join(', ')}]` +
      `${runtime.endpoint ? `, endpoint ${runtime.endpoint.url}` : ''}, Temporal ${config.temporal.address} (UI ${config.temporal.uiUrl}), ` +
      `registry ${config.databaseUrl ? 'PostgreSQL' : 'embedded PGlite'}, artifacts ${config.paths.artifacts}, ` +
      `clusters [${Object.keys(config.clusters).join(', ')}], Azure ML workspaces [${Object.keys(config.workspaces).join(', ')}]` +
      (metrics ? `, worker metrics http://${metrics}/metrics` : ''),
  );
  await runtime.run();
}

main(process.argv.slice(2)).catch((err) => {
  console.error(err instanceof Error ? `${err.name}: ${err.message}` : err);
  process.exit(1);
});
