// mlc monitor: run the monitoring check now and print its report's summary with a link to its
// page; `--history` lists past runs as a trend (estimated and realized accuracy, drift, verdict).
// Reports are read from PostgreSQL when DATABASE_URL is set, else through a worker
// (workflows/admin.ts), since the embedded registry belongs to the worker's process.
import { randomUUID } from 'node:crypto';
import { ScheduleNotFoundError, type Client } from '@temporalio/client';
import { openRegistry } from '../adapters/db/open';
import { summarizeStoredReport, type MonitoringRunSummary } from '../domain/monitoring/report';
import { monitoringScheduleId, taskQueues } from '../domain/temporal-names';
import type { MlcConfig } from '../temporal.config';
import type { MonitoringOutcome } from '../workflows/monitoring';
import { CliError } from './cli-error';
import type { CliContext } from './context';
import { artifactLocation } from './format';
import { workerFailure } from './registry-access';

const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(1)}%`);

/** A model's monitoring runs, newest first. */
export async function monitoringRuns(
  ctx: { config: MlcConfig; client: Pick<Client, 'workflow'> },
  model: string,
  limit: number,
): Promise<MonitoringRunSummary[]> {
  if (ctx.config.databaseUrl) {
    const registry = await openRegistry({ databaseUrl: ctx.config.databaseUrl, dataDir: ctx.config.paths.data });
    try {
      return (await registry.monitoringReports(model, limit)).map(summarizeStoredReport);
    } finally {
      await registry.close();
    }
  }
  try {
    return await ctx.client.workflow.execute<(input: { model: string; limit: number }) => Promise<MonitoringRunSummary[]>>('monitoringHistory', {
      taskQueue: taskQueues.control,
      workflowId: `mlc-admin-monitoringHistory-${randomUUID()}`,
      args: [{ model, limit }],
      workflowExecutionTimeout: '1 minute',
    });
  } catch (err) {
    throw workerFailure(err);
  }
}

/** Where a report's page (or, for an old report, its JSON) lies, for a person to open. */
export function pageLocation(config: MlcConfig, run: Pick<MonitoringRunSummary, 'pageKey' | 'reportKey'>): string {
  return artifactLocation(config.paths.artifacts, run.pageKey ?? run.reportKey);
}

/** The run's headline: verdict, window, estimated and realized accuracy, drifted features. */
export function formatRun(run: MonitoringRunSummary): string {
  const verdict = run.degraded
    ? 'DEGRADED (retrain requested)'
    : run.breached
      ? 'threshold crossed (not yet retraining)'
      : run.judged
        ? 'healthy'
        : 'not judged';
  const estimate = run.estimated ? `${pct(run.estimated.value)} [${pct(run.estimated.lower)} – ${pct(run.estimated.upper)}]` : '—';
  return [
    `${verdict}: version ${run.version}, ${run.predictions} predictions from ${run.windowStart} to ${run.windowEnd}`,
    `  estimated accuracy ${estimate}, realized ${pct(run.realizedAccuracy)}; ${run.drifted} feature(s) drifted${run.movedMost ? `, moved most: ${run.movedMost}` : ''}`,
  ].join('\n');
}

/** Runs the Schedule now; waits for the run and prints its report (unless --no-wait). */
export async function monitorCommand(ctx: CliContext, model: string, opts: { wait?: boolean; json?: boolean }) {
  const schedule = ctx.client.schedule.getHandle(monitoringScheduleId(model));
  const started = (d: Awaited<ReturnType<typeof schedule.describe>>) => d.info.recentActions.map((a) => a.action.workflow.workflowId);
  let before: Set<string>;
  try {
    before = new Set(started(await schedule.describe()));
  } catch (err) {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
    throw new CliError(`no monitoring Schedule for ${model}: it exists once a version of ${model} is deployed (mlc status ${model})`);
  }
  await schedule.trigger();
  if (opts.wait === false) {
    console.log(`monitoring of ${model} triggered; see the result with: mlc monitor ${model} --history`);
    return;
  }
  let runId: string | undefined;
  for (let i = 0; i < 60 && !runId; i++) {
    runId = started(await schedule.describe()).find((id) => !before.has(id));
    if (!runId) await new Promise((r) => setTimeout(r, 500));
  }
  if (!runId)
    throw new CliError(
      `the Schedule ${monitoringScheduleId(model)} did not start a run within 30 s; is it paused? temporal schedule describe -s ${monitoringScheduleId(model)}`,
    );
  const outcome = (await ctx.client.workflow.getHandle(runId).result()) as MonitoringOutcome;
  const run = outcome.reportKey ? (await monitoringRuns(ctx, model, 5)).find((r) => r.reportKey === outcome.reportKey) : undefined;
  if (opts.json) return console.log(JSON.stringify({ outcome, run: run ?? null }, null, 2));
  if (!run) return console.log(`monitoring run ${runId}: ${outcome.reasons.join('; ')}`);
  console.log(formatRun(run));
  for (const reason of outcome.reasons) console.log(`  - ${reason}`);
  if (outcome.retrainRequested) console.log('  → retrain requested from the lifecycle');
  if (outcome.schedulePaused) console.log(`  → Schedule paused: ${outcome.schedulePaused}`);
  console.log(`  report: ${pageLocation(ctx.config, run)}`);
}

/** The trend over past runs, oldest at the bottom, newest report's page last. */
export async function monitorHistoryCommand(ctx: CliContext, model: string, opts: { limit?: string; json?: boolean }) {
  const limit = opts.limit ? Number(opts.limit) : 20;
  if (!Number.isInteger(limit) || limit < 1) throw new CliError(`--limit ${opts.limit}: give a whole number of runs, e.g. --limit 50`, 2);
  const runs = await monitoringRuns(ctx, model, limit);
  if (opts.json) return console.log(JSON.stringify(runs, null, 2));
  if (!runs.length)
    return console.log(`no monitoring reports for ${model} yet (the first comes an interval after its first deployment; mlc monitor ${model} runs one now)`);
  console.log(formatTrend(runs));
  console.log(`newest report: ${pageLocation(ctx.config, runs[0]!)}`);
}

/** Newest first in, oldest first out, with a bar for the estimated accuracy. */
export function formatTrend(runs: MonitoringRunSummary[]): string {
  const header = `${'window end'.padEnd(24)} ${'ver'.padEnd(4)} ${'predictions'.padStart(11)}  ${'estimated'.padEnd(30)} ${'realized'.padStart(8)}  drifted  verdict`;
  const rows = [...runs].reverse().map((r) => {
    const bar = r.estimatedAccuracy === null ? '' : '█'.repeat(Math.round(r.estimatedAccuracy * 20)).padEnd(20, '·');
    const verdict = r.degraded ? 'RETRAIN' : r.breached ? 'breached' : r.judged ? 'ok' : 'not judged';
    return `${r.windowEnd.slice(0, 24).padEnd(24)} ${`v${r.version}`.padEnd(4)} ${String(r.predictions).padStart(11)}  ${pct(r.estimatedAccuracy).padStart(6)} ${bar.padEnd(23)} ${pct(r.realizedAccuracy).padStart(8)}  ${String(r.drifted).padStart(7)}  ${verdict}`;
  });
  return [header, ...rows].join('\n');
}

/** One line for `mlc status`: the newest report's verdict and page; null when there is none or no answer. */
export async function latestMonitoringLine(ctx: CliContext, model: string): Promise<string | null> {
  try {
    const [run] = await monitoringRuns(ctx, model, 1);
    if (!run) return null;
    const verdict = run.degraded ? 'degraded' : run.breached ? 'breached' : run.judged ? 'healthy' : 'not judged';
    return `monitoring  ${verdict} at ${run.windowEnd}, estimated accuracy ${pct(run.estimatedAccuracy)}: ${pageLocation(ctx.config, run)}`;
  } catch {
    return null;
  }
}
