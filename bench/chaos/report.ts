// The chaos run as a table — one row per fault and state, what was injected and what was
// observed — and the list of broken invariants, which decides the exit status.
import { label } from './faults';
import { duplicateJobs } from './invariants';
import { overlapped, recoveryMs, type Injection } from './recovery';
import type { ChaosResult, LifecycleResult } from './run';

export interface Row {
  fault: string;
  planned: number;
  injected: number;
  /** Lifecycles in flight when a fault of this row hit them. */
  lifecycles: number;
  equalToBaseline: number;
  duplicateJobs: number;
  lostOrStuck: number;
  recoveryP50Ms: number | null;
  recoveryMaxMs: number | null;
  /** The broken part back (restarted and ready), median. */
  backP50Ms: number | null;
  note?: string;
}

export function rows(result: ChaosResult): Row[] {
  const byRun = new Map(result.lifecycles.map((l) => [l.run, l]));
  const labels = [...new Set([...result.injections.map((i) => i.label), ...result.missed.map((m) => label(m.fault))])].sort();
  const all = result.injections;
  const out = labels.map((l) =>
    row(
      l,
      all.filter((i) => i.label === l),
      result.missed.filter((m) => label(m.fault) === l).length,
      byRun,
      all,
    ),
  );
  const kills = all.filter((i) => i.fault.kind === 'worker-kill');
  const killsMissed = result.missed.filter((m) => m.fault.kind === 'worker-kill').length;
  if (kills.length + killsMissed > 0) out.unshift(row('worker SIGKILL, all states', kills, killsMissed, byRun, all));
  const untouched = result.lifecycles.filter((l) => !result.injections.some((i) => i.hit.has(l.run)));
  if (untouched.length) out.push(summary('no fault (ran between faults)', untouched));
  return out;
}

function row(fault: string, injections: Injection[], missed: number, byRun: Map<unknown, LifecycleResult>, all: Injection[]): Row {
  const hit = [...new Set(injections.flatMap((i) => [...i.hit.keys()]))].map((r) => byRun.get(r)!).filter(Boolean);
  const clean = injections.filter((i) => !overlapped(i, all));
  const recoveries = clean.map(recoveryMs).filter((ms): ms is number => ms !== null);
  const backs = injections.map((i) => i.outcome.backMs).filter((ms): ms is number => ms !== null);
  const notes: string[] = injections.map((i) => i.resumed).filter((n): n is string => !!n);
  const mixed = injections.length - clean.length;
  if (mixed) notes.push(`${mixed} of ${injections.length} left out of the recovery figures: a later fault reached the lifecycle before it recovered`);
  return {
    ...summary(fault, hit),
    planned: injections.length + missed,
    injected: injections.length,
    recoveryP50Ms: median(recoveries),
    recoveryMaxMs: recoveries.length ? Math.max(...recoveries) : null,
    backP50Ms: median(backs),
    ...(notes.length ? { note: notes.join('; ') } : {}),
  };
}

function summary(fault: string, hit: LifecycleResult[]): Row {
  return {
    fault,
    planned: 0,
    injected: 0,
    lifecycles: hit.length,
    equalToBaseline: hit.filter((l) => l.diffs.length === 0).length,
    duplicateJobs: hit.reduce((n, l) => n + duplicateJobs(l.state), 0),
    lostOrStuck: hit.filter((l) => l.run.outcome !== 'reached monitoring').length,
    recoveryP50Ms: null,
    recoveryMaxMs: null,
    backP50Ms: null,
  };
}

/** Every invariant the run broke, in words; empty means it held. */
export function violations(result: ChaosResult): string[] {
  const out: string[] = [];
  for (const l of result.lifecycles) {
    if (l.run.outcome !== 'reached monitoring') out.push(`${l.run.id}: ${l.run.outcome}${l.run.error ? ` (${l.run.error.split('\n')[0]})` : ''}`);
    for (const d of l.diffs) out.push(`${l.run.id}: ${d}`);
  }
  for (const i of result.injections) {
    if (recoveryMs(i) === null) out.push(`${i.label} at ${new Date(i.at).toISOString()}: ${i.target.id} never recovered`);
    if (i.resumed && !/resumed at step/.test(i.resumed)) out.push(`${i.label}: ${i.resumed}`);
  }
  for (const c of result.crashes) out.push(`a worker exited without being killed: ${c.split('\n')[0]}`);
  return out;
}

export function formatTable(rs: Row[]): string {
  const head = ['fault injected', 'injected', 'lifecycles', '= baseline', 'dup SLURM jobs', 'lost/stuck', 'recovery p50', 'max', 'back p50'];
  const body = rs.map((r) => [
    r.fault,
    r.planned > r.injected ? `${r.injected} of ${r.planned}` : String(r.injected || '-'),
    String(r.lifecycles),
    `${r.equalToBaseline}/${r.lifecycles}`,
    String(r.duplicateJobs),
    String(r.lostOrStuck),
    sec(r.recoveryP50Ms),
    sec(r.recoveryMaxMs),
    sec(r.backP50Ms),
  ]);
  const widths = head.map((h, c) => Math.max(h.length, ...body.map((b) => b[c]!.length)));
  const line = (cells: string[]) => cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  const notes = rs.filter((r) => r.note).map((r) => `  ${r.fault}: ${r.note}`);
  return [line(head), ...body.map(line), ...(notes.length ? ['', ...notes] : [])].join('\n');
}

function median(xs: number[]): number | null {
  if (!xs.length) return null;
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const sec = (ms: number | null) => (ms === null ? '-' : `${(ms / 1000).toFixed(1)} s`);
