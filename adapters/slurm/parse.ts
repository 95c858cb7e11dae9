// Parsers for what squeue, sacct and scontrol print, into one record shape. The commands are
// built here too, next to the format they must match. Everything is lenient per line: one
// odd line (another user's job, a new SLURM field) is skipped, never fatal.
import { shellCommand } from './shell';

export interface JobRecord {
  /** The id a user sees: "123", "123_4" (array task) or "123_[5-9%2]" (tasks not started yet). */
  id: string;
  /** SLURM's own id for this record (array tasks have one each, e.g. 127 for 123_4). */
  rawJobId?: string;
  arrayJobId?: string;
  /** "4", or a range of pending tasks such as "5-9%2". */
  arrayTaskId?: string;
  /** Upper-case long form: PENDING, RUNNING, CANCELLED (never "CANCELLED by 0"). */
  state: string;
  exitCode?: number;
  signal?: number;
  reason?: string;
  elapsedSeconds?: number;
  restarts?: number;
  name?: string;
  comment?: string;
}

// --- squeue -------------------------------------------------------------------------------

// `-O field:|` means "no padding, then a literal |": unambiguous columns, unlike `-o %j`
// which cannot print the exit code. Comment and Name are free text, so they come last.
const squeueFields = ['JobArrayID', 'JobID', 'ArrayJobID', 'ArrayTaskID', 'State', 'exit_code', 'TimeUsed', 'RestartCnt', 'Reason', 'Comment', 'Name'];
export const squeueFormat = squeueFields.map((f) => `${f}:|`).join(',');

/**
 * One squeue for many jobs. `--states=all` includes jobs that finished but are still held by
 * the controller (MinJobAge), with their exit codes; `--array` prints one line per task.
 */
export function squeueCommand(select: { jobIds: string[] } | { name: string; user: string }): string {
  // --user rather than --me: --me only exists since SLURM 20.11.
  const filter = 'jobIds' in select ? [`--jobs=${select.jobIds.join(',')}`] : [`--user=${select.user}`, `--name=${select.name}`];
  return shellCommand(['squeue', '--noheader', '--array', '--states=all', ...filter, `--Format=${squeueFormat}`]);
}

/** squeue -j with one id it does not know fails instead of printing nothing. */
export function isInvalidJobIdError(stderr: string): boolean {
  return /Invalid job id specified/i.test(stderr);
}

export function parseSqueue(text: string): JobRecord[] {
  const out: JobRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const f = line.replace(/\|$/, '').split('|');
    if (f.length < squeueFields.length) continue;
    const [id, raw, arrayJob, arrayTask, state, exit, used, restarts, reason, comment] = f.map((s) => s.trim());
    if (!id || !state) continue;
    const status = Number(exit);
    out.push(
      clean({
        id,
        rawJobId: raw,
        ...arrayIds(arrayJob, arrayTask),
        state: normalizeState(state),
        // squeue prints the raw wait status (exit << 8 | signal), sacct/scontrol print "exit:signal".
        ...(exit && /^\d+$/.test(exit) ? { exitCode: (status >> 8) & 0xff, signal: status & 0x7f } : {}),
        elapsedSeconds: parseElapsed(used),
        restarts: toInt(restarts),
        reason: nullable(reason),
        comment: nullable(comment),
        name: nullable(f.slice(squeueFields.length - 1).join('|')),
      }),
    );
  }
  return out;
}

// --- sacct --------------------------------------------------------------------------------

export function sacctCommand(jobIds: string[]): string {
  return shellCommand(['sacct', '--noheader', '--parsable2', `--jobs=${jobIds.join(',')}`, '--format=JobID,State,ExitCode,Elapsed,JobName']);
}

/** sacct's answer when the cluster has no slurmdbd: remember it and stop asking. */
export function isAccountingDisabledError(stderr: string): boolean {
  return /accounting storage is disabled|no accounting|not running a supported accounting_storage|slurmdbd/i.test(stderr);
}

export function parseSacct(text: string): JobRecord[] {
  const byId = new Map<string, JobRecord>();
  for (const line of text.split('\n')) {
    const f = line.split('|');
    const [jobId, state, exit, elapsed] = f.map((s) => s.trim());
    if (!jobId || !state || f.length < 5) continue;
    if (jobId.includes('.')) continue; // job steps: 123.batch, 123.extern, 123.0
    const m = /^(\d+)(?:_(\[[^\]]+\]|\d+))?(?:\+\d+)?$/.exec(jobId);
    if (!m) continue;
    const task = m[2]?.replace(/^\[|\]$/g, '');
    // Requeued jobs can appear more than once (--duplicates); the last line is the latest run.
    byId.set(
      jobId,
      clean({
        id: jobId,
        ...(task !== undefined ? { arrayJobId: m[1], arrayTaskId: task } : { rawJobId: m[1] }),
        state: normalizeState(state),
        ...parseExitSignal(exit),
        elapsedSeconds: parseElapsed(elapsed),
        name: nullable(f.slice(4).join('|')),
      }),
    );
  }
  return [...byId.values()];
}

// --- scontrol -----------------------------------------------------------------------------

/** scontrol takes one job id per call (a comma list is "Invalid job id"). */
export function scontrolCommand(jobId: string): string {
  return shellCommand(['scontrol', 'show', 'job', '-o', jobId]);
}

/** `Key=Value Key=Value ...` on one line per job; values may contain '=' (TRES=cpu=1,...). */
export function parseScontrolLine(line: string): Record<string, string> {
  const fields: Record<string, string> = {};
  const keyRe = /(?:^|\s)([A-Za-z][A-Za-z0-9_:/]*)=/g;
  const keys: { key: string; start: number; valueStart: number }[] = [];
  for (let m = keyRe.exec(line); m; m = keyRe.exec(line)) {
    keys.push({ key: m[1]!, start: m.index, valueStart: m.index + m[0].length });
  }
  keys.forEach((k, i) => {
    const end = i + 1 < keys.length ? keys[i + 1]!.start : line.length;
    if (!(k.key in fields)) fields[k.key] = line.slice(k.valueStart, end).trim();
  });
  return fields;
}

export function parseScontrol(text: string): JobRecord[] {
  const out: JobRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('JobId=')) continue;
    const f = parseScontrolLine(line);
    if (!f.JobId || !f.JobState) continue;
    const task = f.ArrayTaskId;
    out.push(
      clean({
        id: f.ArrayJobId && task ? `${f.ArrayJobId}_${/^\d+$/.test(task) ? task : `[${task}]`}` : f.JobId,
        rawJobId: f.JobId,
        ...arrayIds(f.ArrayJobId, task),
        state: normalizeState(f.JobState),
        ...parseExitSignal(f.ExitCode),
        elapsedSeconds: parseElapsed(f.RunTime),
        restarts: toInt(f.Restarts),
        reason: nullable(f.Reason),
        name: nullable(f.JobName),
        comment: nullable(f.Comment),
      }),
    );
  }
  return out;
}

// --- shared pieces ------------------------------------------------------------------------

const compactStates: Record<string, string> = {
  BF: 'BOOT_FAIL',
  CA: 'CANCELLED',
  CD: 'COMPLETED',
  CF: 'CONFIGURING',
  CG: 'COMPLETING',
  DL: 'DEADLINE',
  F: 'FAILED',
  NF: 'NODE_FAIL',
  OOM: 'OUT_OF_MEMORY',
  PD: 'PENDING',
  PR: 'PREEMPTED',
  R: 'RUNNING',
  RD: 'RESV_DEL_HOLD',
  RF: 'REQUEUE_FED',
  RH: 'REQUEUE_HOLD',
  RQ: 'REQUEUED',
  RS: 'RESIZING',
  RV: 'REVOKED',
  SE: 'SPECIAL_EXIT',
  SI: 'SIGNALING',
  SO: 'STAGE_OUT',
  S: 'SUSPENDED',
  ST: 'STOPPED',
  TO: 'TIMEOUT',
};

/** "CANCELLED by 0" → CANCELLED, "completed" → COMPLETED, "PD" → PENDING, "RUNNING+" → RUNNING. */
export function normalizeState(raw: string): string {
  const word = (raw.trim().split(/\s+/, 1)[0] ?? '').replace(/[+*]+$/, '').toUpperCase();
  return compactStates[word] ?? word;
}

/** "D-HH:MM:SS", "HH:MM:SS", "MM:SS" or "SS", with optional ".fraction"; else undefined. */
export function parseElapsed(raw: string | undefined): number | undefined {
  const m = /^(?:(\d+)-)?(?:(?:(\d+):)?(\d+):)?(\d+)(?:\.\d+)?$/.exec(raw?.trim() ?? '');
  if (!m) return undefined;
  const [, d, h, min, s] = m;
  if (d !== undefined && (h === undefined || min === undefined)) {
    // "D-HH" or "D-HH:MM": SLURM's input forms; never printed, but do not misread them.
    return undefined;
  }
  return Number(d ?? 0) * 86_400 + Number(h ?? 0) * 3_600 + Number(min ?? 0) * 60 + Number(s);
}

/** "3:0" → exit 3; "0:15" → signal 15. */
export function parseExitSignal(raw: string | undefined): { exitCode?: number; signal?: number } {
  const m = /^(\d+):(\d+)$/.exec(raw?.trim() ?? '');
  return m ? { exitCode: Number(m[1]), signal: Number(m[2]) } : {};
}

/** Task indexes in a SLURM array range: "5-9%2", "1,3,8-10", "0-10:5" (step). */
export function expandArrayRange(range: string): number[] {
  const out: number[] = [];
  for (const part of range.replace(/%\d+$/, '').split(',')) {
    const m = /^(\d+)(?:-(\d+)(?::(\d+))?)?$/.exec(part.trim());
    if (!m) continue;
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    const step = m[3] === undefined ? 1 : Math.max(1, Number(m[3]));
    for (let i = from; i <= to && out.length < 100_000; i += step) out.push(i);
  }
  return out;
}

function arrayIds(arrayJob: string | undefined, task: string | undefined): Pick<JobRecord, 'arrayJobId' | 'arrayTaskId'> {
  const t = nullable(task);
  if (!t || !arrayJob) return {};
  return { arrayJobId: arrayJob, arrayTaskId: t.replace(/^\[|\]$/g, '') };
}

function nullable(v: string | undefined): string | undefined {
  const t = v?.trim();
  return !t || t === '(null)' || t === 'N/A' ? undefined : t;
}

function toInt(v: string | undefined): number | undefined {
  return v !== undefined && /^\d+$/.test(v.trim()) ? Number(v) : undefined;
}

function clean<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}
