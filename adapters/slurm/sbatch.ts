// The batch script, rendered line by line. Two kinds of values reach it:
//  - #SBATCH lines are read by sbatch itself, not by a shell, and cannot be quoted, so their
//    values are re-validated here against the spec's narrow charsets (even if they got past
//    zod) and refused otherwise;
//  - the script body is shell, and every value in it goes through shellQuote.
// The script is piped to `sbatch --parsable` on stdin: no temp file on the cluster, no
// quoting of the script itself.
import path from 'node:path/posix';
import type { ClusterConfig } from '../../temporal.config';
import type { ClusterProfile } from '../../domain/spec';
import { InvalidJobRequestError } from './errors';
import type { TrainingJobRequest } from './port';
import { shellCommand, shellQuote } from './shell';

export type ClusterPaths = Pick<ClusterConfig, 'codeDir' | 'artifactsRoot' | 'python'>;

const sbatchValue = /^[A-Za-z0-9._:,=+/-]{1,128}$/;
const keyPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;
/** A path sbatch reads from an #SBATCH line: no spaces, quotes, '%' patterns or newlines. */
const sbatchPath = /^\/[A-Za-z0-9._/+,:@=-]*$/;
/** Options we set ourselves; overriding them would break idempotency, logs or checkpoints. */
const reservedOptions = ['job-name', 'comment', 'output', 'error', 'array', 'open-mode', 'signal', 'wrap', 'parsable', 'requeue', 'no-requeue'];

export const jobNamePrefix = 'mlc-';
export const jobName = (key: string) => `${jobNamePrefix}${key}`;
export const jobComment = (key: string) => `mlc-key=${key}`;

function check(ok: boolean, field: string, value: unknown, rule: string): void {
  if (!ok) throw new InvalidJobRequestError(field, String(value), rule);
}

/** A folder or file under the artifact root: relative, no "..", no control characters. */
export function relativePath(field: string, value: string | undefined): string {
  check(typeof value === 'string' && value.length > 0, field, value, 'required');
  const v = value!;
  check(!v.startsWith('/'), field, v, 'must be relative to the artifact root');
  // eslint-disable-next-line no-control-regex -- finding control characters is the point of this check.
  check(!/[\0-\x1f\x7f]/.test(v), field, v, 'must not contain newlines or control characters');
  check(!v.split('/').includes('..'), field, v, 'must not contain ".." segments');
  return v;
}

export function validateProfile(p: ClusterProfile): void {
  for (const f of ['partition', 'account', 'qos', 'gres'] as const) {
    if (p[f] !== undefined) check(sbatchValue.test(p[f]), `profile.${f}`, p[f], 'letters, digits and . _ : , = + / - only (1-128)');
  }
  check(Number.isInteger(p.cpusPerTask) && p.cpusPerTask >= 1 && p.cpusPerTask <= 256, 'profile.cpusPerTask', p.cpusPerTask, 'an integer from 1 to 256');
  check(/^\d+[KMGT]?$/.test(p.memory), 'profile.memory', p.memory, 'a SLURM memory size like "500M" or "16G"');
  check(/^(\d+-)?\d{1,2}:\d{2}:\d{2}$/.test(p.timeLimit), 'profile.timeLimit', p.timeLimit, 'a SLURM time like "01:00:00" or "2-00:00:00"');
  check(
    Number.isInteger(p.checkpointSignalSeconds) && p.checkpointSignalSeconds >= 10 && p.checkpointSignalSeconds <= 3600,
    'profile.checkpointSignalSeconds',
    p.checkpointSignalSeconds,
    'an integer from 10 to 3600',
  );
  for (const m of p.modules) check(/^[A-Za-z0-9._/+-]{1,128}$/.test(m), 'profile.modules[]', m, 'a module name like "rocm/5.7.1"');
  for (const o of p.extraSbatch) {
    check(/^--[a-z][a-z-]*(=[A-Za-z0-9._:,=+/-]+)?$/.test(o), 'profile.extraSbatch[]', o, 'an sbatch option like "--exclusive" or "--constraint=mi100"');
    const name = o.slice(2).split('=', 1)[0]!;
    check(!reservedOptions.includes(name), 'profile.extraSbatch[]', o, `--${name} is set by mlc itself and cannot be overridden`);
  }
}

export interface ResolvedJob {
  name: string;
  /** Absolute run folder on the cluster. */
  runDir: string;
  /** sbatch's --output pattern. */
  logPattern: string;
  /** Our record "<id> mlc-key=<key>", written on the cluster right after sbatch. */
  submitRecord: string;
  /** train.py's own record: the bare $SLURM_JOB_ID (array id for trials), written at start. */
  jobIdFile: string;
}

export function validateKey(key: string): void {
  check(keyPattern.test(key ?? ''), 'key', key, 'letters, digits, ".", "_" and "-" (max 200), starting with a letter or digit');
}

/** Validate everything that reaches the cluster and work out the absolute paths. */
export function resolveJob(req: TrainingJobRequest, cluster: ClusterPaths): ResolvedJob {
  validateKey(req.key);
  relativePath('dataDir', req.dataDir);
  relativePath('configFile', req.configFile);
  if (req.trials || req.trialsFile) {
    relativePath('trialsFile', req.trialsFile);
    const t = req.trials;
    check(!!t && Number.isInteger(t.count) && t.count >= 1 && t.count <= 10_000, 'trials.count', t?.count, 'an integer from 1 to 10000, with trialsFile');
    check(!!t && Number.isInteger(t.concurrency) && t.concurrency >= 1, 'trials.concurrency', t?.concurrency, 'a positive integer');
  }
  for (const [f, v] of Object.entries(cluster)) check(!/[\0\n\r]/.test(v), `cluster.${f}`, v, 'must not contain newlines');
  if (req.command)
    check(req.command.length > 0 && req.command.every((w) => !w.includes('\0')), 'command', req.command.join(' '), 'a non-empty argv without NUL bytes');
  validateProfile(req.profile);

  const runDir = clusterRunDir(req.runDir, cluster);
  const logPattern = path.join(runDir, req.trials ? 'slurm-%A_%a.out' : 'slurm-%j.out');
  return {
    name: jobName(req.key),
    runDir,
    logPattern,
    submitRecord: path.join(runDir, 'slurm-job-id.submitted'),
    jobIdFile: path.join(runDir, 'slurm-job-id'),
  };
}

/** The absolute run folder on the cluster; it appears in #SBATCH --output, so it is held to a narrow charset. */
export function clusterRunDir(runDir: string, cluster: Pick<ClusterPaths, 'artifactsRoot'>): string {
  relativePath('runDir', runDir);
  check(cluster.artifactsRoot.startsWith('/'), 'cluster.artifactsRoot', cluster.artifactsRoot, 'must be an absolute path');
  const abs = path.join(cluster.artifactsRoot, runDir);
  check(
    sbatchPath.test(abs),
    'runDir',
    abs,
    'the run folder (artifact root + runDir) appears in an #SBATCH --output line, which cannot be quoted: use letters, digits and . _ / + , : @ = - only (no spaces or %)',
  );
  return abs;
}

/** The job's command line: train.py with absolute paths, or the test seam's argv. */
export function trainArgv(req: TrainingJobRequest, cluster: ClusterPaths): string[] {
  if (req.command) return req.command;
  const abs = (p: string) => path.join(cluster.artifactsRoot, p);
  return [
    cluster.python,
    'slurm/train.py',
    '--config',
    abs(req.configFile),
    '--data-dir',
    abs(req.dataDir),
    '--out-dir',
    abs(req.runDir),
    '--cache-dir',
    abs('cache'),
    ...(req.trialsFile ? ['--trials', abs(req.trialsFile)] : []),
  ];
}

export function renderBatchScript(req: TrainingJobRequest, cluster: ClusterPaths): string {
  const job = resolveJob(req, cluster);
  const p = req.profile;
  const sb = (opt: string) => `#SBATCH ${opt}`;
  const lines = [
    '#!/bin/bash',
    sb(`--job-name=${job.name}`),
    sb(`--comment=${jobComment(req.key)}`),
    sb(`--output=${job.logPattern}`),
    ...(p.partition ? [sb(`--partition=${p.partition}`)] : []),
    ...(p.account ? [sb(`--account=${p.account}`)] : []),
    ...(p.qos ? [sb(`--qos=${p.qos}`)] : []),
    ...(p.gres ? [sb(`--gres=${p.gres}`)] : []),
    sb(`--cpus-per-task=${p.cpusPerTask}`),
    sb(`--mem=${p.memory}`),
    sb(`--time=${p.timeLimit}`),
    // B: signals the batch shell, which `exec` below turns into train.py itself; without it
    // SLURM signals only job steps (srun), and train.py would never hear it.
    sb(`--signal=B:USR1@${p.checkpointSignalSeconds}`),
    sb('--requeue'),
    // A requeued job keeps its id and appends to the same log instead of truncating it.
    sb('--open-mode=append'),
    ...(req.trials ? [sb(`--array=0-${req.trials.count - 1}%${req.trials.concurrency}`)] : []),
    ...p.extraSbatch.map(sb),
    '',
    'set -euo pipefail',
  ];
  if (p.modules.length > 0) {
    lines.push(
      '# Batch shells are not login shells: find the module command if the profile did not define it.',
      'set +u',
      'if ! command -v module >/dev/null 2>&1; then',
      '  for init in /etc/profile.d/lmod.sh /etc/profile.d/modules.sh /usr/share/lmod/lmod/init/bash /usr/share/modules/init/bash; do',
      '    if [ -f "$init" ]; then . "$init"; break; fi',
      '  done',
      'fi',
      'if ! command -v module >/dev/null 2>&1; then',
      '  echo "mlc: profile.modules is set but there is no module command on $(hostname)" >&2',
      '  exit 1',
      'fi',
      ...p.modules.map((m) => `module load ${shellQuote(m)}`),
      'set -u',
    );
  }
  lines.push(`cd ${shellQuote(cluster.codeDir)}`, `exec ${shellCommand(trainArgv(req, cluster))}`, '');
  return lines.join('\n');
}

/**
 * One remote command: create the run folder (SLURM does not create the log's folder), submit
 * the script from stdin, then record the id in the run folder on the cluster side, so the
 * record survives even if this process dies the moment sbatch returns. The record is our own
 * file, not slurm-job-id: train.py rewrites that one with a bare id, which loses the key. Wrapped in `sh -c` on
 * one line so it behaves the same whatever the login shell (bash, zsh, tcsh).
 */
export function submitCommand(job: ResolvedJob, key: string): string {
  const dir = shellQuote(job.runDir);
  const tmp = shellQuote(`${job.submitRecord}.tmp`);
  const script = [
    'set -e',
    `mkdir -p -- ${dir}`,
    'out=$(sbatch --parsable)',
    'id=${out%%;*}',
    `{ printf '%s mlc-key=%s\\n' "$id" ${shellQuote(key)} > ${tmp} && mv -f -- ${tmp} ${shellQuote(job.submitRecord)}; } || echo "mlc: could not record the job id in the run folder" >&2`,
    `printf '%s\\n' "$id"`,
  ].join('; ');
  return shellCommand(['sh', '-c', script]);
}

/** Our slurm-job-id line "<id> mlc-key=<key>", or train.py's bare "$SLURM_JOB_ID". */
export function parseJobIdFile(text: string): { jobId: string; key?: string } | undefined {
  const m = /^\s*(\d+(?:_\d+)?)(?:\s+mlc-key=(\S+))?\s*$/m.exec(text);
  return m ? { jobId: m[1]!, ...(m[2] ? { key: m[2] } : {}) } : undefined;
}
