// What a lifecycle left behind, read from the places that outlive every process — the status
// query, the PostgreSQL registry, the SLURM controller — and how it compares with the end
// state of the undisturbed baseline. Only what must not depend on luck is compared: stages,
// versions, decisions, rows and jobs; metrics may differ between two trainings.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import postgres from 'postgres';
import { jobName } from '../../adapters/slurm/sbatch';
import { repoRoot } from '../../temporal.config';
import type { LifecycleRun, Outcome } from './lifecycle';

export interface EndState {
  outcome: Outcome | null;
  stage: string | null;
  version: number | null;
  deployedVersion: number | null;
  /** The status query's decisions: "audit:approved:alice:v1". */
  decisions: string[];
  registry: {
    /** State of every run row of the model. */
    runs: string[];
    versions: number[];
    decisions: string[];
    deployments: string[];
    datasets: number;
  };
  slurm: {
    /** SLURM jobs per job name (mlc-<submission key>); more than one under a name is a duplicate. */
    jobsByName: Record<string, number>;
    /**
     * Job logs (slurm-<id>.out) in the lifecycle's run folders: every job that ran left one,
     * even one the controller has since forgotten (a restarted slurmctld).
     */
    jobLogs: number;
    /** Jobs the cluster ended that the lifecycle resubmitted (node failure, preemption). */
    resubmissions: number;
    /** Registry runs that submit jobs (a search's trials run as tasks of their parent's array). */
    submittingRuns: number;
  };
}

/**
 * What the lifecycle left, read once PostgreSQL answers: a lifecycle can end while the bench
 * has PostgreSQL down for a fault, and its reads must outlast the restart like the workers do.
 */
export async function readEndState(run: LifecycleRun, databaseUrl: string, patienceMs = 60_000): Promise<EndState> {
  const deadline = Date.now() + patienceMs;
  for (;;) {
    try {
      return await readEndStateOnce(run, databaseUrl);
    } catch (err) {
      const code = (err as { code?: string }).code;
      const restarting = code === 'ECONNREFUSED' || code === 'CONNECTION_CLOSED' || code === '57P03'; // 57P03: the database system is starting up
      if (!restarting || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

async function readEndStateOnce(run: LifecycleRun, databaseUrl: string): Promise<EndState> {
  const model = run.spec.name;
  const status = run.lastStatus;
  const db = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const runs = await db<{ run_key: string; state: string; artifact_uri: string; trial: number | null }[]>`
      select run_key, state, artifact_uri, trial from runs where model = ${model} order by id`;
    const versions = await db<{ version: number }[]>`select version from model_versions where model = ${model} order by version`;
    const decisions = await db<{ kind: string; outcome: string; actor: string; version: number | null }[]>`
      select kind, outcome, actor, version from decisions where model = ${model} order by id`;
    const deployments = await db<{ version: number; actor: string }[]>`select version, actor from deployments where model = ${model} order by id`;
    const [datasets] = await db<{ n: number }[]>`select count(*)::int as n from dataset_versions where model = ${model}`;
    return {
      outcome: run.outcome,
      stage: status?.stage ?? run.latest?.stage ?? null,
      version: status?.version ?? null,
      deployedVersion: status?.deployedVersion ?? null,
      decisions: (status?.decisions ?? []).map((d) => `${d.kind}:${d.outcome}:${d.actor}:v${d.version}`),
      registry: {
        runs: runs.map((r) => r.state),
        versions: versions.map((v) => v.version),
        decisions: decisions.map((d) => `${d.kind}:${d.outcome}:${d.actor}:v${d.version}`),
        deployments: deployments.map((d) => `v${d.version}:${d.actor}`),
        datasets: datasets?.n ?? 0,
      },
      slurm: {
        jobsByName: slurmJobsByName(runs.map((r) => r.run_key)),
        jobLogs: jobLogsIn(runs.filter((r) => r.trial === null).map((r) => r.artifact_uri)),
        resubmissions: status?.training?.resubmittedAfter?.length ?? 0,
        submittingRuns: runs.filter((r) => r.trial === null).length,
      },
    };
  } finally {
    await db.end();
  }
}

/**
 * Duplicate submissions: a second job under one name, or more job logs in the run folders than
 * submissions made (one per run, one per resubmission).
 */
export function duplicateJobs(state: EndState): number {
  const { jobsByName, jobLogs, submittingRuns, resubmissions } = state.slurm;
  const underOneName = Object.values(jobsByName).reduce((n, jobs) => n + Math.max(0, jobs - 1), 0);
  return Math.max(underOneName, jobLogs - (submittingRuns + resubmissions));
}

/** Jobs the lifecycle ran: what the controller knows, or the logs, whichever saw more. */
export function slurmJobs(state: EndState): number {
  return Math.max(
    Object.values(state.slurm.jobsByName).reduce((n, jobs) => n + jobs, 0),
    state.slurm.jobLogs,
  );
}

/**
 * Where `state` differs from the baseline's, in words; empty when equal. A job the cluster
 * ended and the lifecycle resubmitted is one job more, and expected.
 */
export function differences(baseline: EndState, state: EndState): string[] {
  const diffs: string[] = [];
  const same = (what: string, a: unknown, b: unknown) => {
    if (JSON.stringify(a) !== JSON.stringify(b)) diffs.push(`${what}: ${JSON.stringify(b)} (baseline ${JSON.stringify(a)})`);
  };
  same('outcome', baseline.outcome, state.outcome);
  same('stage', baseline.stage, state.stage);
  same('version', baseline.version, state.version);
  same('deployed version', baseline.deployedVersion, state.deployedVersion);
  same('decisions (status)', baseline.decisions, state.decisions);
  same('registry runs', baseline.registry.runs, state.registry.runs);
  same('registry versions', baseline.registry.versions, state.registry.versions);
  same('registry decisions', baseline.registry.decisions, state.registry.decisions);
  same('registry deployments', baseline.registry.deployments, state.registry.deployments);
  same('registry dataset versions', baseline.registry.datasets, state.registry.datasets);
  same('SLURM jobs less resubmissions', slurmJobs(baseline) - baseline.slurm.resubmissions, slurmJobs(state) - state.slurm.resubmissions);
  return diffs;
}

/** slurm-<id>.out files in the run folders (file:// URIs); a folder not there counts none. */
function jobLogsIn(folders: string[]): number {
  let n = 0;
  for (const uri of folders) {
    if (!uri.startsWith('file://')) continue;
    try {
      n += readdirSync(fileURLToPath(uri)).filter((f) => /^slurm-\d+\.out$/.test(f)).length;
    } catch {
      // no folder: no job ran
    }
  }
  return n;
}

/**
 * Every job the controller still knows (finished ones for MinJobAge, an hour on the dev
 * cluster) whose name belongs to one of these runs: mlc-<run key>, or mlc-<run key>-r<N> for a
 * resubmission. The dev cluster keeps no accounting database, so sacct cannot be asked.
 */
function slurmJobsByName(runKeys: string[]): Record<string, number> {
  const out = execFileSync('squeue', ['--noheader', '--states=all', '--format=%i|%j'], {
    encoding: 'utf8',
    env: { ...process.env, SLURM_CONF: process.env.SLURM_CONF ?? path.join(repoRoot, 'infra/slurm/slurm.conf') },
  });
  const names = new Set(runKeys.map(jobName));
  const belongs = (name: string) => names.has(name) || names.has(name.replace(/-r\d+$/, ''));
  const counts: Record<string, number> = {};
  for (const line of out.split('\n')) {
    const [id, name] = line.trim().split('|');
    if (!id || !name || !belongs(name)) continue;
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}
