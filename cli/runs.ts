// mlc runs: a model's training runs as MLflow shows them — params, metrics, state, duration,
// dataset and code commit — one run with its curves and artifacts, or two side by side.
import type { TrackingRegistry } from '../activities/tracking';
import { manifestKeyOf, parseManifest } from '../adapters/artifacts/manifest';
import type { ArtifactStore } from '../adapters/artifacts/port';
import type { MetricPoint, RunSummary } from '../adapters/db/port';
import { CliError } from './cli-error';
import { formatDuration, formatNumber, formatTable, sparkline } from './format';

// The numbers a reader compares runs by first; the rest are in `mlc runs show`.
const HEADLINE_METRICS = ['best_val_macro_f1', 'test_macro_f1', 'test_accuracy'];

/** Seconds from creation to finish, or to `now` for a run still going. */
export function durationSeconds(run: RunSummary, now = Date.now()): number {
  return ((run.finishedAt ? Date.parse(run.finishedAt) : now) - Date.parse(run.createdAt)) / 1000;
}

const short = (s: string | null, n: number) => (s ? s.slice(0, n) : '—');
// Params as the spec wrote them (0.0005 stays 0.0005); metrics rounded for reading.
const showParam = (v: unknown) => (v === undefined || v === null ? '—' : typeof v === 'string' ? v : JSON.stringify(v));
const showMetric = (v: number | null | undefined) => (v === undefined || v === null ? '—' : formatNumber(v));

/** Params whose value differs between runs (shown as columns), and those every run shares. */
export function splitParams(runs: RunSummary[]): { varying: string[]; shared: Record<string, unknown> } {
  const names = [...new Set(runs.flatMap((r) => Object.keys(r.params)))].sort();
  const varying = names.filter((n) => new Set(runs.map((r) => JSON.stringify(r.params[n]))).size > 1);
  const shared = Object.fromEntries(names.filter((n) => !varying.includes(n)).map((n) => [n, runs[0]!.params[n]]));
  return { varying, shared };
}

export function formatRunList(model: string, runs: RunSummary[], now = Date.now()): string {
  if (!runs.length) return `no runs recorded for ${model} (the first comes with its first training: mlc start <spec>)`;
  const metrics = HEADLINE_METRICS.filter((m) => runs.some((r) => r.metrics[m] !== undefined));
  const { varying, shared } = splitParams(runs);
  const head = ['run', 'version', 'state', 'started', 'duration', 'dataset', 'commit', ...metrics, ...varying];
  const rows = runs.map((r) => [
    r.runKey,
    r.version === null ? '—' : `v${r.version}`,
    r.state,
    r.createdAt.slice(0, 16).replace('T', ' '),
    `${formatDuration(durationSeconds(r, now))}${r.finishedAt ? '' : '…'}`,
    short(r.datasetHash, 12),
    short(r.gitCommit, 8),
    ...metrics.map((m) => showMetric(r.metrics[m])),
    ...varying.map((p) => showParam(r.params[p])),
  ]);
  const right = head.map((_, i) => i === 4 || i >= 7);
  const sharedLine = Object.keys(shared).length
    ? `\nparams of every run: ${Object.entries(shared)
        .map(([k, v]) => `${k}=${showParam(v)}`)
        .join(' ')}`
    : '';
  return `${formatTable(head, rows, right)}${sharedLine}\n(mlc runs show <run> for curves and artifacts; mlc runs compare <run> <run>)`;
}

/** A run's curves by metric, per-epoch ones first (they are what a reader looks at). */
export function curvesOf(history: MetricPoint[]): { metric: string; perEpoch: boolean; points: MetricPoint[] }[] {
  const byMetric = new Map<string, MetricPoint[]>();
  for (const p of history) byMetric.set(p.metric, [...(byMetric.get(p.metric) ?? []), p]);
  return [...byMetric.entries()]
    .map(([metric, points]) => ({ metric, perEpoch: points.every((p) => p.epoch !== null), points: [...points].sort((a, b) => a.step - b.step) }))
    .sort((a, b) => Number(b.perEpoch) - Number(a.perEpoch) || a.metric.localeCompare(b.metric));
}

export function formatCurve(c: ReturnType<typeof curvesOf>[number]): string {
  const values = c.points.map((p) => p.value);
  const first = c.points[0]!;
  const last = c.points[c.points.length - 1]!;
  const range = (what: string, a: number | null, b: number | null) => (a === b ? `${what} ${a}` : `${what}s ${a}–${b}`);
  const span = c.perEpoch ? range('epoch', first.epoch, last.epoch) : range('step', first.step, last.step);
  return `${sparkline(values)}  ${formatNumber(first.value)} → ${formatNumber(last.value)}  (min ${formatNumber(Math.min(...values))}, max ${formatNumber(Math.max(...values))}; ${values.length} point${values.length === 1 ? '' : 's'}, ${span})`;
}

export interface RunArtifacts {
  uri: string;
  files: { key: string; size: number }[] | null;
  /** Why the files could not be listed. */
  unavailable?: string;
}

/** The run folder's files, from its manifest (written when the run was registered) or a listing. */
export async function runArtifacts(store: ArtifactStore | null, run: RunSummary, why = 'no artifact store'): Promise<RunArtifacts> {
  if (!store) return { uri: run.artifactUri, files: null, unavailable: why };
  try {
    const folder = store.keyOf(run.artifactUri);
    const bytes = await store.get(manifestKeyOf(folder)).catch(() => undefined);
    const files = bytes
      ? parseManifest(folder, bytes).files.map((f) => ({ key: f.key.slice(folder.length + 1), size: f.size }))
      : (await store.list(folder)).map((key) => ({ key: key.slice(folder.length + 1), size: -1 }));
    return { uri: run.artifactUri, files };
  } catch (error) {
    return { uri: run.artifactUri, files: null, unavailable: (error as Error).message };
  }
}

const bytes = (n: number) => (n < 0 ? '' : n < 1024 ? `${n} B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} KB` : `${(n / 1024 ** 2).toFixed(1)} MB`);

/** Files of the folder itself, and each subfolder (checkpoints, trials) as one line. */
function artifactLines(files: { key: string; size: number }[]): string[] {
  const top = files.filter((f) => !f.key.includes('/'));
  const folders = new Map<string, { n: number; size: number }>();
  for (const f of files.filter((x) => x.key.includes('/'))) {
    const dir = f.key.slice(0, f.key.indexOf('/'));
    const agg = folders.get(dir) ?? { n: 0, size: 0 };
    // A listing (no manifest yet: the run is still training) has no sizes: the sum is unknown too.
    folders.set(dir, { n: agg.n + 1, size: agg.size < 0 || f.size < 0 ? -1 : agg.size + f.size });
  }
  return [
    ...top.map((f) => `  ${f.key.padEnd(28)} ${bytes(f.size)}`.trimEnd()),
    ...[...folders.entries()].map(([dir, a]) => `  ${`${dir}/`.padEnd(28)} ${a.n} file${a.n === 1 ? '' : 's'}${a.size < 0 ? '' : `, ${bytes(a.size)}`}`),
  ];
}

export function formatRunDetail(run: RunSummary, history: MetricPoint[], artifacts: RunArtifacts, now = Date.now()): string {
  const lines = [
    `run        ${run.runKey}${run.trial !== null ? `  (trial ${run.trial} of a search)` : ''}`,
    `model      ${run.model}${run.version !== null ? ` v${run.version}` : ''}   generation ${run.generation}, attempt ${run.attempt}`,
    `state      ${run.state}   started ${run.createdAt}   ${run.finishedAt ? `finished ${run.finishedAt}` : 'not finished'}   (${formatDuration(durationSeconds(run, now))})`,
    `dataset    ${run.datasetHash}`,
    `commit     ${run.gitCommit ?? '— (not recorded)'}`,
    `cluster    ${run.cluster}${run.slurmJobId ? `   job ${run.slurmJobId}` : ''}`,
  ];
  if (run.error) lines.push(`error      ${run.error}`);
  lines.push('params');
  for (const [k, v] of Object.entries(run.params).sort(([a], [b]) => a.localeCompare(b))) lines.push(`  ${k.padEnd(26)} ${showParam(v)}`);
  lines.push('metrics');
  for (const [k, v] of Object.entries(run.metrics).sort(([a], [b]) => a.localeCompare(b))) lines.push(`  ${k.padEnd(26)} ${formatNumber(v)}`);
  const curves = curvesOf(history);
  lines.push(curves.length ? 'curves' : 'curves     none recorded (recorded when training registers its outputs)');
  for (const c of curves) lines.push(`  ${`${c.metric}${c.perEpoch ? '' : ' (per step)'}`.padEnd(26)} ${formatCurve(c)}`);
  lines.push(`artifacts  ${artifacts.uri}`);
  if (artifacts.files) lines.push(...artifactLines(artifacts.files));
  else lines.push(`  (not listed: ${artifacts.unavailable})`);
  return lines.join('\n');
}

export interface RunComparison {
  a: string;
  b: string;
  params: { name: string; a: unknown; b: unknown; differs: boolean }[];
  metrics: { name: string; a: number | null; b: number | null; delta: number | null }[];
}

export function compareRuns(a: RunSummary, b: RunSummary): RunComparison {
  const names = (x: object, y: object) => [...new Set([...Object.keys(x), ...Object.keys(y)])].sort();
  return {
    a: a.runKey,
    b: b.runKey,
    params: names(a.params, b.params).map((name) => ({
      name,
      a: a.params[name] ?? null,
      b: b.params[name] ?? null,
      differs: JSON.stringify(a.params[name]) !== JSON.stringify(b.params[name]),
    })),
    metrics: names(a.metrics, b.metrics).map((name) => {
      const x = a.metrics[name] ?? null;
      const y = b.metrics[name] ?? null;
      return { name, a: x, b: y, delta: x !== null && y !== null ? y - x : null };
    }),
  };
}

export function formatComparison(c: RunComparison): string {
  const signed = (d: number | null) => (d === null ? '' : d === 0 ? '0' : `${d > 0 ? '+' : ''}${formatNumber(d)}`);
  const params = formatTable(
    ['param', 'A', 'B', ''],
    c.params.map((p) => [p.name, showParam(p.a), showParam(p.b), p.differs ? '≠' : '']),
  );
  const metrics = formatTable(
    ['metric', 'A', 'B', 'B − A'],
    c.metrics.map((m) => [m.name, showMetric(m.a), showMetric(m.b), signed(m.delta)]),
    [false, true, true, true],
  );
  return `A = ${c.a}\nB = ${c.b}\n\n${params}\n\n${metrics}`;
}

async function runOrFail(registry: TrackingRegistry, runKey: string): Promise<RunSummary> {
  const run = await registry.describeRun(runKey);
  if (!run) throw new CliError(`no run ${runKey} in the registry; mlc runs <model> lists the run keys`, 2);
  return run;
}

export async function runsListCommand(registry: TrackingRegistry, model: string, opts: { json?: boolean }) {
  const runs = await registry.listRuns(model);
  if (opts.json)
    return console.log(
      JSON.stringify(
        runs.map((r) => ({ ...r, durationSeconds: durationSeconds(r) })),
        null,
        2,
      ),
    );
  console.log(formatRunList(model, runs));
}

export async function runsShowCommand(registry: TrackingRegistry, runKey: string, opts: { json?: boolean }, openStore: () => Promise<ArtifactStore>) {
  const run = await runOrFail(registry, runKey);
  const history = await registry.metricHistory(runKey);
  const store = await openStore().then(
    (s) => ({ s, why: '' }),
    (e: Error) => ({ s: null, why: `cannot open the artifact store: ${e.message}` }),
  );
  const artifacts = await runArtifacts(store.s, run, store.why);
  if (opts.json) return console.log(JSON.stringify({ run: { ...run, durationSeconds: durationSeconds(run) }, history, artifacts }, null, 2));
  console.log(formatRunDetail(run, history, artifacts));
}

export async function runsCompareCommand(registry: TrackingRegistry, a: string, b: string, opts: { json?: boolean }) {
  const comparison = compareRuns(await runOrFail(registry, a), await runOrFail(registry, b));
  console.log(opts.json ? JSON.stringify(comparison, null, 2) : formatComparison(comparison));
}
