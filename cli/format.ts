// Human-readable status for the terminal.
import type { LifecycleStatus } from '../domain/lifecycle';

/** `now` is the reader's clock: a job still queued or running is timed from its submission, so the line stays current between the workflow's updates (which come only when the job's state changes). */
export function formatStatus(s: LifecycleStatus, now = Date.now()): string {
  const lines = [
    `model       ${s.model}`,
    `stage       ${s.stage}`,
    `generation  ${s.generation}   attempt ${s.attempt}`,
    `dataset     ${s.datasetHash ?? '—'}`,
  ];
  if (s.training) {
    const t = s.training;
    lines.push(`training    run ${t.runKey} on ${t.cluster}: job ${t.jobId ?? '—'} ${t.jobState ?? ''}${jobTime(t, now)}`);
  }
  lines.push(`version     ${s.version ?? '—'}${s.artifactSha256 ? `  (model.onnx sha256 ${s.artifactSha256.slice(0, 16)}…)` : ''}`);
  if (s.evaluation) {
    const m = s.evaluation.metrics;
    lines.push(
      `metrics     ${Object.entries(m)
        .map(([k, v]) => `${k} ${v.toFixed(4)}`)
        .join('  ')}`,
    );
    lines.push(
      `gates       ${s.evaluation.gatesPassed ? 'passed' : 'FAILED'}${s.evaluation.gates.map((g) => `  ${g.metric}≥${g.min}: ${g.value.toFixed(4)}`).join('')}`,
    );
    lines.push(`audit pkg   ${s.evaluation.auditPackageKey}`);
  }
  lines.push(`deployed    ${s.deployedVersion ?? '—'}`);
  if (s.lastDecision) {
    const d = s.lastDecision;
    lines.push(`last        ${d.kind} ${d.outcome} by ${d.actor} at ${d.at}: ${d.reason}`);
  }
  if (s.error) lines.push(`error       ${s.error}`);
  return lines.join('\n');
}

function jobTime(t: NonNullable<LifecycleStatus['training']>, now: number): string {
  const live = t.jobPhase === 'queued' || t.jobPhase === 'running' || (t.jobId !== null && t.jobPhase === null);
  if (live && t.startedAt) return `, ${Math.max(0, Math.round((now - Date.parse(t.startedAt)) / 1000))}s since submission`;
  return t.elapsedSeconds != null ? `, ${t.elapsedSeconds}s elapsed` : '';
}
