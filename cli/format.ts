// Human-readable status for the terminal.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { clipText } from '../domain/clip-text';
import type { LifecycleStatus } from '../domain/lifecycle';
import { formatJobProgress, type JobProgress } from '../domain/training-progress';

export interface Lives {
  ended?: string | null;
  /** The version the endpoint serves; undefined when not known. */
  champion?: number | null;
}

/** Where an artifact key lies, for a person to open: a local path under a folder root, the URI under Blob. */
export function artifactLocation(artifactsRoot: string, key: string): string {
  if (artifactsRoot.startsWith('file://')) return path.join(fileURLToPath(artifactsRoot), key);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(artifactsRoot)) return `${artifactsRoot.replace(/\/+$/, '')}/${key}`;
  return path.resolve(artifactsRoot, key);
}

/**
 * `now` is the reader's clock: a job still queued or running is timed from its submission, so the line stays current between the workflow's updates (which come only when the job's state changes).
 * `artifactsRoot` (config paths.artifacts) turns the audit package's key into a path or URI to open.
 * `progress`: what the running job last reported (cli/job-progress.ts), shown while it runs.
 * `lives`: how the execution ended (cli/context.ts endedAs), when it has; what the endpoint serves
 * (the champion alias), when this lifecycle has deployed nothing yet or has ended.
 */
export function formatStatus(s: LifecycleStatus, now = Date.now(), artifactsRoot?: string, progress?: JobProgress | null, lives: Lives = {}): string {
  const lines = [
    `model       ${s.model}`,
    `stage       ${s.stage}`,
    ...(lives.ended ? [`ended       ${lives.ended}; nothing moves it on`] : []),
    `generation  ${s.generation}   attempt ${s.attempt}`,
    `dataset     ${s.datasetHash ?? '—'}`,
  ];
  if (s.training) {
    const t = s.training;
    const warm = t.warmStartFrom !== undefined ? `, from version ${t.warmStartFrom}'s weights` : '';
    lines.push(`training    run ${t.runKey} on ${t.cluster}: job ${t.jobId ?? '—'} ${t.jobState ?? ''}${jobTime(t, now)}${warm}`);
    if (progress && s.stage === 'training') formatJobProgress(progress, now).forEach((line, i) => lines.push(`${(i ? '' : 'progress').padEnd(11)} ${line}`));
  }
  lines.push(`version     ${s.version ?? '—'}${s.artifactSha256 ? `  (model.onnx sha256 ${s.artifactSha256.slice(0, 16)}…)` : ''}`);
  if (s.evaluation) {
    const m = s.evaluation.metrics;
    lines.push(
      `metrics     ${Object.entries(m)
        .map(([k, v]) => `${k} ${formatNumber(v)}`)
        .join('  ')}`,
    );
    lines.push(
      `gates       ${s.evaluation.gatesPassed ? 'passed' : 'FAILED'}${s.evaluation.gates.map((g) => `  ${g.metric}≥${g.min}: ${g.value.toFixed(4)}`).join('')}`,
    );
    const key = s.evaluation.auditPackageKey;
    lines.push(`audit pkg   ${artifactsRoot ? artifactLocation(artifactsRoot, key) : key}`);
  }
  lines.push(`deployed    ${deployedLine(s, lives)}`);
  if (s.lastDecision) {
    const d = s.lastDecision;
    lines.push(`last        ${d.kind} ${d.outcome} by ${d.actor} at ${d.at}: ${lastReason(d.reason, s.model)}`);
  }
  if (s.error) lines.push(`error       ${s.error}`);
  return lines.join('\n');
}

// A monitor's retrain request names every drifted feature with its test: thousands of characters,
// which buried the rest of the status. The decision log keeps it whole.
const LAST_REASON_CHARS = 240;

function lastReason(reason: string, model: string): string {
  const clipped = clipText(reason, LAST_REASON_CHARS);
  return clipped === reason ? reason : `${clipped}; the whole reason: mlc history ${model}`;
}

function jobTime(t: NonNullable<LifecycleStatus['training']>, now: number): string {
  const live = t.jobPhase === 'queued' || t.jobPhase === 'running' || (t.jobId !== null && t.jobPhase === null);
  if (live && t.startedAt) return `, ${Math.max(0, Math.round((now - Date.parse(t.startedAt)) / 1000))}s since submission`;
  return t.elapsedSeconds != null ? `, ${t.elapsedSeconds}s elapsed` : '';
}

/** Columns padded to their widest cell; `right` marks columns of numbers. */
export function formatTable(head: string[], rows: string[][], right: boolean[] = []): string {
  // Combining marks (Thai vowels and tone marks above or below a consonant) take no column.
  const width = (s: string) => [...s.replace(/\p{M}/gu, '')].length;
  const widths = head.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ''))));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => {
        const pad = ' '.repeat(widths[i]! - width(c));
        return right[i] ? pad + c : c + pad;
      })
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}

const BARS = '▁▂▃▄▅▆▇█';

/** A curve in one line of block characters, at most `width` wide (longer series averaged into buckets). */
export function sparkline(values: number[], width = 40): string {
  const finite = values.filter(Number.isFinite);
  if (!finite.length) return '';
  const buckets =
    finite.length <= width
      ? finite.map((v) => [v])
      : Array.from({ length: width }, (_, i) => finite.slice(Math.floor((i * finite.length) / width), Math.floor(((i + 1) * finite.length) / width)));
  const points = buckets.map((b) => b.reduce((s, v) => s + v, 0) / b.length);
  const lo = Math.min(...points);
  const span = Math.max(...points) - lo;
  return points.map((v) => BARS[span === 0 ? 0 : Math.round(((v - lo) / span) * (BARS.length - 1))]).join('');
}

/** 3725 → "1h02m05s"; 42.4 → "42s". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h) return `${h}h${String(m).padStart(2, '0')}m${String(s % 60).padStart(2, '0')}s`;
  if (m) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/** A metric value for a table: 4 decimals for fractions, fewer digits for large numbers. */
export function formatNumber(v: number): string {
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(2) : v.toFixed(a >= 100 ? 1 : 4);
}

/**
 * After a stop or a cancel, the next lifecycle starts with nothing deployed of its own, while the
 * endpoint goes on serving the earlier one's version; and an ended lifecycle's version may have
 * been taken off since (mlc undeploy) or replaced by a later lifecycle's.
 */
function deployedLine(s: LifecycleStatus, { ended, champion }: Lives): string {
  if (s.deployedVersion === null) return champion ? `—  (the endpoint serves version ${champion}, deployed by an earlier lifecycle)` : '—';
  if (!ended || champion === undefined || champion === s.deployedVersion) return String(s.deployedVersion);
  const now = champion === null ? 'nothing is' : `version ${champion} is`;
  return `—  (version ${s.deployedVersion} no longer serves; ${now} deployed now: mlc history ${s.model})`;
}
