// From parsed records to the port's JobStatus: one job, or a job array summed over its tasks.
// An array succeeds when every task is done and at least one trial succeeded; it fails only
// when all of them failed. Each trial's own status stays in `tasks`.
import type { JobRecord } from './parse';
import { expandArrayRange } from './parse';
import type { JobStatus } from './port';
import { stateInfo } from './states';

export function recordStatus(jobId: string, r: JobRecord): JobStatus {
  const info = stateInfo(r.state, r);
  const slurmReason = r.reason && r.reason !== 'None' ? r.reason : undefined;
  const reason = info.hint ? (slurmReason ? `${info.hint} (SLURM: ${slurmReason})` : info.hint) : slurmReason;
  return strip({
    jobId,
    state: r.state,
    phase: info.phase,
    exitCode: info.phase === 'queued' || info.phase === 'running' ? undefined : r.exitCode,
    signal: r.signal ? r.signal : undefined,
    restarts: r.restarts ? r.restarts : undefined,
    reason,
    elapsedSeconds: r.elapsedSeconds,
    retryable: info.retryable,
  });
}

/** Does this record belong to the job the caller tracks ("123", "123_4", or a task's raw id)? */
export function belongsTo(trackedId: string, r: JobRecord): boolean {
  if (trackedId.includes('_')) return r.id === trackedId;
  if (r.arrayTaskId !== undefined) return r.arrayJobId === trackedId || (r.rawJobId === trackedId && !r.id.includes('['));
  return r.id === trackedId || r.rawJobId === trackedId;
}

/** Records by every id they can be asked by, so a round over N jobs stays O(N), not O(N²). */
export class RecordIndex {
  private readonly byId = new Map<string, JobRecord[]>();
  constructor(records: JobRecord[]) {
    for (const r of records) {
      for (const id of new Set([r.id, r.rawJobId, r.arrayJobId])) {
        if (id === undefined) continue;
        const list = this.byId.get(id);
        if (list) list.push(r);
        else this.byId.set(id, [r]);
      }
    }
  }
  candidates(trackedId: string): JobRecord[] {
    return this.byId.get(trackedId) ?? [];
  }
}

/** The status of `trackedId` from every record of one round, or undefined if none is about it. */
export function jobStatus(trackedId: string, records: JobRecord[] | RecordIndex): JobStatus | undefined {
  const pool = records instanceof RecordIndex ? records.candidates(trackedId) : records;
  const mine = pool.filter((r) => belongsTo(trackedId, r));
  if (mine.length === 0) return undefined;
  const isArray = !trackedId.includes('_') && mine.some((r) => r.arrayJobId === trackedId);
  if (!isArray) return recordStatus(trackedId, mine[mine.length - 1]!);

  const tasks: Record<number, JobStatus> = {};
  for (const r of mine) {
    const range = r.arrayTaskId ?? '';
    const indexes = /^\d+$/.test(range) ? [Number(range)] : expandArrayRange(range);
    for (const i of indexes) tasks[i] = recordStatus(`${trackedId}_${i}`, r);
  }
  return aggregate(trackedId, tasks);
}

export function aggregate(jobId: string, tasks: Record<number, JobStatus>): JobStatus {
  const all = Object.values(tasks);
  const count = (phase: JobStatus['phase']) => all.filter((t) => t.phase === phase).length;
  const [queued, running, succeeded, failed] = [count('queued'), count('running'), count('succeeded'), count('failed')];
  const elapsedSeconds = Math.max(0, ...all.map((t) => t.elapsedSeconds ?? 0));
  const summary = `${all.length} tasks: ${succeeded} succeeded, ${failed} failed, ${running} running, ${queued} queued`;

  if (running + queued > 0) {
    return { jobId, state: running ? 'RUNNING' : 'PENDING', phase: running ? 'running' : 'queued', reason: summary, elapsedSeconds, retryable: false, tasks };
  }
  if (succeeded > 0) {
    const partial = failed
      ? `; failed trials: ${Object.entries(tasks)
          .filter(([, t]) => t.phase === 'failed')
          .map(([i, t]) => `${i} (${t.state})`)
          .join(', ')}`
      : '';
    return { jobId, state: 'COMPLETED', phase: 'succeeded', reason: summary + partial, elapsedSeconds, retryable: false, tasks };
  }
  // Every trial failed: report the commonest failure, retryable only if every one was.
  const states = all.map((t) => t.state);
  const state = states.sort((a, b) => states.filter((s) => s === b).length - states.filter((s) => s === a).length)[0] ?? 'FAILED';
  const example = all.find((t) => t.state === state);
  return strip({
    jobId,
    state,
    phase: 'failed',
    exitCode: example?.exitCode,
    reason: `all ${all.length} trials failed; e.g. task ${example?.jobId}: ${example?.reason ?? state}`,
    elapsedSeconds,
    retryable: all.every((t) => t.retryable),
    tasks,
  });
}

function strip(s: JobStatus): JobStatus {
  for (const k of Object.keys(s) as (keyof JobStatus)[]) if (s[k] === undefined) delete s[k];
  return s;
}
