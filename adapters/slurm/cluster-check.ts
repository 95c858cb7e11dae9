// `mlc cluster check`: before a lifecycle waits an hour in a queue to fail on a typo, prove a
// cluster works the way training will use it: the pinned SSH login, the scheduler and the
// spec's profile (partition, account/qos, gres), then one tiny job through the executor's own
// submit and watch that reports the node's python, torch and GPU and writes a nonce the worker
// must read back from ITS artifact root (the shared NFS mount). Every failure is one result
// naming what failed, where, and the fix. The probe job uses the request's `command` seam on
// purpose: the values in it are the cluster's own config, never a spec's.
import { randomBytes } from 'node:crypto';
import { access, constants, mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { CheckResult } from '../../domain/checks';
import { clusterProfileSchema, type ClusterProfile } from '../../domain/spec';
import type { ClusterConfig, LocalClusterConfig, SlurmClusterConfig } from '../../temporal.config';
import { messageOf } from '../../domain/errors';
import { HostKeyMismatchError, HostKeyUnknownError, SshConnectionError } from './errors';
import { SlurmExecutor } from './executor';
import { LocalExecutor } from './local-executor';
import { isAccountingDisabledError } from './parse';
import type { ClusterExecutor, JobStatus } from './port';
import { shellCommand } from './shell';

export type { CheckResult } from '../../domain/checks';

const probeSchema = z.object({
  hostname: z.string(),
  python: z.string(),
  executable: z.string(),
  loadedModules: z.array(z.string()),
  missingModules: z.array(z.string()),
  torch: z.string().nullable(),
  torchError: z.string().optional(),
  cudaVersion: z.string().nullish(),
  hipVersion: z.string().nullish(),
  gpu: z.boolean().optional(),
  deviceCount: z.number().optional(),
  device: z.string().nullish(),
  gpuError: z.string().optional(),
  nonceError: z.string().nullable(),
});
/** What slurm/probe.py found on the node (its `MLC-PROBE {json}` log line). */
export type ProbeReport = z.infer<typeof probeSchema>;

export interface ClusterCheckReport {
  cluster: string;
  executor: ClusterConfig['executor'];
  ok: boolean;
  jobId?: string;
  probe?: ProbeReport;
  results: CheckResult[];
}

export interface ClusterCheckOptions {
  /** The worker's artifact root (config.paths.artifacts): where the job's nonce must show up. */
  workerArtifacts: string;
  /** A spec's training.profile (--spec); without it the probe runs with the defaults. */
  profile?: ClusterProfile;
  /** How long to wait for the probe job, queueing included, before cancelling it. */
  waitMs?: number;
  /** Only what takes a second (mlc doctor): the SSH login and the scheduler, or the local folder; no probe job. */
  quick?: boolean;
}

/** The probe job's own limits: it must never hold a node for long. */
const probeTimeLimit = '00:02:00';

class Results {
  readonly list: CheckResult[] = [];
  has = (check: string) => this.list.some((r) => r.check === check);
  failed = (check: string) => this.list.some((r) => r.check === check && r.status === 'fail');
  pass(check: string, detail: string) {
    this.list.push({ check, status: 'pass', detail });
  }
  fail(check: string, detail: string, fix: string) {
    this.list.push({ check, status: 'fail', detail, fix });
  }
  skip(check: string, detail: string) {
    this.list.push({ check, status: 'skip', detail });
  }
  /** One line per planned check whatever failed first, in the plan's order. */
  ordered(plan: string[], why: string): CheckResult[] {
    for (const c of plan) if (!this.has(c)) this.skip(c, `not checked: ${why}`);
    return plan.flatMap((c) => this.list.filter((r) => r.check === c));
  }
}

export async function checkCluster(name: string, cluster: ClusterConfig, opts: ClusterCheckOptions): Promise<ClusterCheckReport> {
  const r = new Results();
  const key = `check-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  const modules = cluster.executor === 'slurm' ? (opts.profile?.modules ?? []) : [];
  const probeChecks = opts.quick ? [] : ['job', ...(modules.length ? ['modules'] : []), 'python', 'torch', 'gpu', 'shared'];
  const plan =
    cluster.executor === 'slurm'
      ? ['ssh', 'slurm', ...(opts.profile ? ['partition', 'account/qos', 'gres'] : []), ...(opts.quick ? [] : ['artifacts']), ...probeChecks]
      : [...(opts.profile ? ['profile'] : []), 'artifacts', ...probeChecks];
  let job: { jobId?: string; probe?: ProbeReport } = {};
  try {
    job = cluster.executor === 'slurm' ? await checkSlurm(name, cluster, opts, key, r) : await checkLocal(name, cluster, opts, key, r);
  } catch (e) {
    // An SSH drop or timeout mid-way: it belongs to the check that was running.
    const current = plan.find((c) => !r.has(c)) ?? 'job';
    r.fail(
      current,
      `${cluster.executor === 'slurm' ? `on ${cluster.host}: ` : ''}${messageOf(e)}`,
      'run the check again; if it repeats, fix what the message names',
    );
  }
  const why = r.list.find((x) => x.status === 'fail')?.check ?? 'an earlier check';
  const results = r.ordered(plan, `${why} failed`);
  return { cluster: name, executor: cluster.executor, ok: results.every((x) => x.status !== 'fail'), ...job, results };
}

async function checkSlurm(name: string, cluster: SlurmClusterConfig, opts: ClusterCheckOptions, key: string, r: Results) {
  const executor = new SlurmExecutor(cluster, {
    ssh: { connectAttempts: 1, readyTimeoutMs: 10_000 },
    watcher: { intervalMs: Math.min(cluster.pollIntervalMs, 1000) },
    commandTimeoutMs: 30_000,
  });
  const sh = (argv: string[]) => executor.runner.exec(shellCommand(argv), { timeoutMs: 30_000 });
  const dir = path.posix.join(cluster.artifactsRoot, 'check', key);
  try {
    try {
      const login = (await sh(['hostname'])).stdout.trim();
      r.pass('ssh', `${cluster.username}@${cluster.host}:${cluster.port} (${login}), host key matches ${cluster.knownHostsPath}`);
    } catch (e) {
      r.fail('ssh', ...sshFailure(e, cluster));
      return {};
    }
    const sinfo = await sh(['sinfo', '-h', '-o', '%P|%a']);
    const partitions = parsePartitions(sinfo.stdout);
    if (sinfo.code !== 0 || partitions.length === 0) {
      r.fail(
        'slurm',
        `sinfo on ${cluster.host} failed (exit ${sinfo.code}): ${sinfo.stderr.trim() || 'no partitions listed'}`,
        "check that the SLURM client commands are on the login node's PATH and the controller answers (`scontrol ping`)",
      );
      return {};
    }
    r.pass('slurm', `sinfo lists ${partitions.map((p) => `${p.name}${p.isDefault ? '*' : ''} (${p.state})`).join(', ')}`);
    if (opts.profile) await checkProfile(name, cluster, opts.profile, partitions, sh, r);
    // sbatch would refuse the probe, or queue it for ever: the profile's own lines say why.
    if (opts.quick || ['partition', 'account/qos', 'gres'].some(r.failed)) return {};

    const made = await sh(['sh', '-c', 'mkdir -p -- "$1" && test -w "$1"', 'mlc-check', dir]);
    if (made.code !== 0) {
      r.fail(
        'artifacts',
        `cannot create ${dir} on ${cluster.host}: ${made.stderr.trim() || `exit ${made.code}`}`,
        `set clusters.${name}.artifactsRoot to the shared artifact folder as mounted on the cluster, writable by ${cluster.username}`,
      );
      return {};
    }
    r.pass('artifacts', `${cluster.artifactsRoot} is writable on the login node`);
    return await runProbe(name, cluster, executor, opts, key, r);
  } finally {
    if (r.has('artifacts')) await sh(['rm', '-rf', '--', dir]).catch(() => undefined);
    await executor.close();
  }
}

async function checkLocal(name: string, cluster: LocalClusterConfig, opts: ClusterCheckOptions, key: string, r: Results) {
  if (opts.profile) r.skip('profile', 'not applicable: the local executor has no scheduler (partition, account, qos, gres and modules are ignored)');
  const dir = path.join(cluster.artifactsRoot, 'check', key);
  const executor = new LocalExecutor(cluster);
  let jobId: string | undefined;
  try {
    try {
      await mkdir(dir, { recursive: true });
      await access(dir, constants.W_OK);
      r.pass('artifacts', `${cluster.artifactsRoot} is writable`);
    } catch (e) {
      r.fail('artifacts', `cannot create ${dir}: ${messageOf(e)}`, `set clusters.${name}.artifactsRoot to a folder this worker can write`);
      return {};
    }
    if (opts.quick) return {};
    const out = await runProbe(name, cluster, executor, opts, key, r);
    jobId = out.jobId;
    return out;
  } finally {
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    // The local executor's pid → run-folder index entry would outlive the folder it points to.
    if (jobId) await rm(path.join(cluster.artifactsRoot, '.mlc-local-jobs', `${jobId}.json`), { force: true }).catch(() => undefined);
    await executor.close();
  }
}

async function checkProfile(name: string, cluster: SlurmClusterConfig, profile: ClusterProfile, partitions: Partition[], sh: Sh, r: Results) {
  const names = partitions.map((p) => p.name).join(', ');
  const part = profile.partition ? partitions.find((p) => p.name === profile.partition) : partitions.find((p) => p.isDefault);
  if (!part) {
    r.fail(
      'partition',
      profile.partition
        ? `partition "${profile.partition}" does not exist on cluster ${name} (partitions: ${names})`
        : `the profile names no partition and cluster ${name} has no default one`,
      `set training.profile.partition to one of: ${names}`,
    );
  } else if (part.state !== 'up') {
    r.fail(
      'partition',
      `partition "${part.name}" of cluster ${name} is ${part.state}`,
      `pick another partition (${names}) or ask the cluster admins when "${part.name}" is back up`,
    );
  } else {
    r.pass('partition', `${part.name} is up${profile.partition ? '' : ' (the default: the profile names none)'}`);
  }

  if (!profile.account && !profile.qos) r.skip('account/qos', 'not set in the profile');
  else {
    const a = await sh(['sacctmgr', '-nP', 'show', 'assoc', `user=${cluster.username}`, 'format=account,qos']);
    if (a.code !== 0 && isAccountingDisabledError(a.stderr))
      r.skip('account/qos', 'not checked: accounting disabled on this cluster (sbatch will not enforce them either)');
    else if (a.code !== 0) r.fail('account/qos', `sacctmgr failed (exit ${a.code}): ${a.stderr.trim()}`, 'ask the cluster admins whether slurmdbd is up');
    else {
      const problem = assocProblem(a.stdout, profile.account, profile.qos);
      if (problem)
        r.fail(
          'account/qos',
          `${problem} for user ${cluster.username}`,
          'set training.profile.account/qos to one of those, or ask the cluster admins to add the association',
        );
      else
        r.pass(
          'account/qos',
          [profile.account && `account ${profile.account}`, profile.qos && `qos ${profile.qos}`].filter(Boolean).join(', ') + ' associated',
        );
    }
  }

  if (!profile.gres) return r.skip('gres', 'not set in the profile');
  if (!part) return; // skipped as "partition failed"
  const g = await sh(['sinfo', '-h', '-p', part.name, '-o', '%G']);
  if (g.code === 0 && gresAvailable(profile.gres, g.stdout)) return r.pass('gres', `${profile.gres} exists on a node of ${part.name}`);
  r.fail(
    'gres',
    `no node of partition ${part.name} offers ${profile.gres} (nodes offer: ${g.stdout.trim().split('\n').join(', ') || g.stderr.trim()})`,
    `set training.profile.gres to what \`sinfo -p ${part.name} -o %G\` shows, or pick the partition with those GPUs`,
  );
}

async function runProbe(name: string, cluster: ClusterConfig, executor: ClusterExecutor, opts: ClusterCheckOptions, key: string, r: Results) {
  const nonce = randomBytes(16).toString('hex');
  const runDir = `check/${key}`;
  const clusterNonce = path.posix.join(cluster.artifactsRoot, runDir, 'nonce');
  const base = opts.profile ?? clusterProfileSchema.parse({});
  const profile = { ...base, timeLimit: probeTimeLimit, checkpointSignalSeconds: 10 };
  const command = [cluster.python, 'slurm/probe.py', '--nonce-file', clusterNonce, '--nonce', nonce, '--modules', ...profile.modules];
  let jobId: string;
  try {
    ({ jobId } = await executor.submit({ key, runDir, dataDir: runDir, configFile: `${runDir}/none`, profile, command }));
  } catch (e) {
    r.fail('job', `the probe job was not submitted: ${messageOf(e)}`, 'fix the setting the message names (cluster config or training.profile)');
    return {};
  }
  const waitMs = opts.waitMs ?? 300_000;
  const deadline = AbortSignal.timeout(waitMs);
  let last: JobStatus | undefined;
  let final: JobStatus;
  try {
    final = await executor.waitFor(jobId, { signal: deadline, onUpdate: (s) => (last = s) });
  } catch (e) {
    await executor.cancel(jobId).catch(() => undefined);
    if (!deadline.aborted)
      r.fail(
        'job',
        `lost track of probe job ${jobId}: ${messageOf(e)}`,
        'run the check again; if it repeats, check the SSH connection and `squeue` on the login node',
      );
    else
      r.fail(
        'job',
        `probe job ${jobId} was still ${last?.state ?? 'queued'} after ${Math.ceil(waitMs / 1000)} s${last?.reason ? ` (${last.reason})` : ''}; it was cancelled`,
        'the partition may be busy or the request too large for its nodes: retry later, or lower memory/cpus/gres in training.profile',
      );
    return { jobId };
  }
  const log = await executor.logTail(runDir, jobId, 200).catch((e: unknown) => `(log unreadable: ${messageOf(e)})`);
  const probe = parseProbe(log);
  if (!probe) {
    const d = diagnoseFailure(final, log, cluster, name, profile.modules);
    // The scheduler did its part when the failure is the node's (python, modules): say so once.
    if (d.check !== 'job') r.pass('job', `job ${jobId} was scheduled and ran, but the probe in it failed (see ${d.check})`);
    r.fail(d.check, d.detail, d.fix!);
    return { jobId };
  }
  r.pass('job', `job ${jobId} ${final.state} on ${probe.hostname}`);
  if (probe.missingModules.length)
    r.fail(
      'modules',
      `not loaded on ${probe.hostname}: ${probe.missingModules.join(', ')} (loaded: ${probe.loadedModules.join(', ') || 'none'})`,
      'check the names with `module avail` on a node and fix training.profile.modules',
    );
  else if (profile.modules.length) r.pass('modules', `loaded: ${probe.loadedModules.join(', ')}`);
  r.pass('python', `${cluster.python}: Python ${probe.python}`);
  if (probe.torch) r.pass('torch', `torch ${probe.torch}`);
  else
    r.fail(
      'torch',
      `no torch in ${cluster.python} on ${probe.hostname}: ${probe.torchError ?? 'import failed'}`,
      `install slurm/requirements.txt into that python's environment, or set clusters.${name}.python to one that has torch`,
    );
  const build = probe.hipVersion ? `ROCm ${probe.hipVersion}` : probe.cudaVersion ? `CUDA ${probe.cudaVersion}` : 'CPU-only';
  const wantsGpu = /(^|,)gpu(:|,|$)/.test(profile.gres ?? '');
  if (probe.gpu) r.pass('gpu', `${probe.device} (${probe.deviceCount} visible; torch built for ${build})`);
  else if (!probe.torch) r.skip('gpu', 'not checked: no torch');
  else if (wantsGpu)
    r.fail(
      'gpu',
      `the job asked for ${profile.gres} but torch sees no GPU on ${probe.hostname} (torch ${probe.torch}, ${build} build${probe.gpuError ? `; ${probe.gpuError}` : ''})`,
      "install the ROCm (or CUDA) build of torch matching the node's driver, and load its modules in training.profile.modules",
    );
  else r.pass('gpu', `none visible (torch.cuda.is_available() is False; ${build} build of torch)`);
  await checkShared(name, cluster, opts.workerArtifacts, runDir, nonce, probe, r);
  return { jobId, probe };
}

async function checkShared(name: string, cluster: ClusterConfig, workerRoot: string, runDir: string, nonce: string, probe: ProbeReport, r: Results) {
  const clusterFile = path.posix.join(cluster.artifactsRoot, runDir, 'nonce');
  if (probe.nonceError) {
    return r.fail(
      'shared',
      `the job could not write ${clusterFile} on ${probe.hostname}: ${probe.nonceError}`,
      `clusters.${name}.artifactsRoot must be the shared artifact folder, mounted read-write on the compute nodes`,
    );
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//.test(workerRoot)) return r.skip('shared', `not checked: the worker's artifact root is ${workerRoot}, not a folder`);
  const workerFile = path.join(workerRoot, runDir, 'nonce');
  const seen = await readFile(workerFile, 'utf8').catch((e: NodeJS.ErrnoException) => `(${e.code ?? e.message})`);
  if (seen.trim() === nonce) return r.pass('shared', `the nonce ${probe.hostname} wrote under ${cluster.artifactsRoot} was read back from ${workerRoot}`);
  r.fail(
    'shared',
    `not shared: the job wrote ${clusterFile} on ${probe.hostname}, but this worker reads ${seen.startsWith('(') ? `nothing ${seen}` : 'another value'} at ${workerFile}`,
    `mount the same NFS export on both sides: clusters.${name}.artifactsRoot is its path on the nodes, paths.artifacts (MLC_ARTIFACTS_ROOT) its path on this worker`,
  );
}

type Sh = (argv: string[]) => Promise<{ stdout: string; stderr: string; code: number | null }>;
interface Partition {
  name: string;
  isDefault: boolean;
  state: string;
}

/** `sinfo -h -o '%P|%a'` lines; the default partition carries a trailing '*'. */
export function parsePartitions(text: string): Partition[] {
  const seen = new Map<string, Partition>();
  for (const line of text.split('\n')) {
    const [p, state] = line.trim().split('|');
    if (!p) continue;
    const name = p.replace(/\*$/, '');
    if (!seen.has(name)) seen.set(name, { name, isDefault: p.endsWith('*'), state: state ?? 'unknown' });
  }
  return [...seen.values()];
}

/** What is missing from `sacctmgr -nP show assoc format=account,qos` output, or undefined. */
export function assocProblem(text: string, account?: string, qos?: string): string | undefined {
  const rows = text
    .split('\n')
    .map((l) => l.trim().split('|'))
    .filter(([a]) => a)
    .map(([a, q]) => ({ account: a!, qos: (q ?? '').split(',').filter(Boolean) }));
  const accounts = [...new Set(rows.map((x) => x.account))];
  const mine = account ? rows.filter((x) => x.account === account) : rows;
  if (account && mine.length === 0) return `account "${account}" is not among the associations (${accounts.join(', ') || 'none'})`;
  const qoses = [...new Set(mine.flatMap((x) => x.qos))];
  if (qos && !qoses.includes(qos)) return `qos "${qos}" is not allowed${account ? ` with account ${account}` : ''} (allowed: ${qoses.join(', ') || 'none'})`;
  return undefined;
}

/** Does any node line of `sinfo -o %G` offer every gres of the request ("gpu:mi100:1,nvme")? */
export function gresAvailable(request: string, sinfoG: string): boolean {
  const parse = (s: string) => {
    const [gname, ...rest] = s.split(':');
    const count = rest.length && /^\d+$/.test(rest.at(-1)!) ? Number(rest.pop()) : 1;
    return { name: gname!, type: rest[0], count };
  };
  const wanted = request.split(',').filter(Boolean).map(parse);
  return sinfoG.split('\n').some((line) => {
    const offered = line
      .trim()
      .replace(/\([^)]*\)/g, '')
      .split(',')
      .filter((s) => s && s !== '(null)')
      .map(parse);
    return wanted.every((w) => offered.some((o) => o.name === w.name && (!w.type || o.type === w.type) && o.count >= w.count));
  });
}

export function parseProbe(log: string): ProbeReport | undefined {
  const line = log
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('MLC-PROBE '));
  if (!line) return undefined;
  try {
    return probeSchema.parse(JSON.parse(line.slice('MLC-PROBE '.length)));
  } catch {
    return undefined;
  }
}

/** Why the probe printed nothing: the check the failure belongs to, and its fix. */
export function diagnoseFailure(
  status: JobStatus,
  log: string,
  cluster: Pick<ClusterConfig, 'python' | 'codeDir'>,
  name: string,
  modules: string[],
): CheckResult {
  const tail = log.trim().split('\n').slice(-8).join('\n    ');
  const at = `job ${status.jobId} ended ${status.state}${status.exitCode !== undefined ? ` (exit ${status.exitCode})` : ''}`;
  const fail = (check: string, detail: string, fix: string): CheckResult => ({
    check,
    status: 'fail',
    detail: `${detail}; ${at}${tail ? `:\n    ${tail}` : ''}`,
    fix,
  });
  if (/no module command/.test(log))
    return fail(
      'modules',
      `training.profile.modules is set (${modules.join(', ')}) but the node has no module command`,
      'remove training.profile.modules, or ask the cluster admins how batch jobs load modules',
    );
  if (modules.length && /Lmod has detected|module.*(unknown|not found|unable to locate|ERROR)/i.test(log)) {
    const named = modules.filter((m) => log.includes(m));
    return fail(
      'modules',
      `module load failed for ${named.join(', ') || modules.join(', ')}`,
      'check the names with `module avail` on a node and fix training.profile.modules',
    );
  }
  if (/can't open file .*probe\.py|cd: .*(No such file|Not a directory)/.test(log)) {
    return fail(
      'job',
      `codeDir ${cluster.codeDir} is not this repository on the node (slurm/probe.py missing)`,
      `set clusters.${name}.codeDir to the repository's checkout as the nodes see it (it must hold slurm/train.py and slurm/probe.py)`,
    );
  }
  const pythonMissing = new RegExp(`${escapeRegExp(cluster.python)}.*(No such file|not found|cannot execute|Permission denied)`).test(log);
  if (pythonMissing || status.exitCode === 126 || status.exitCode === 127) {
    return fail(
      'python',
      `no python at ${cluster.python} on the node`,
      `set clusters.${name}.python to the interpreter on the nodes that has torch (e.g. the job environment's .venv/bin/python)`,
    );
  }
  return fail(
    'job',
    `the probe job failed${status.reason ? `: ${status.reason}` : ''}`,
    `read the log above; \`scontrol show job ${status.jobId}\` on the login node says more`,
  );
}

function sshFailure(e: unknown, c: SlurmClusterConfig): [string, string] {
  const at = `${c.host}:${c.port}`;
  if (e instanceof HostKeyMismatchError) {
    return [
      `host key mismatch: ${at} presented ${e.presented}, ${e.knownHostsPath} pins ${e.expected.join(' or ')}; nothing was run`,
      `if the host key was rotated on purpose, confirm the new fingerprint with the cluster admins (out of band) and replace the entry in ${e.knownHostsPath}; otherwise do not connect (possible man in the middle)`,
    ];
  }
  if (e instanceof HostKeyUnknownError) {
    return [
      `host key unknown: ${at} is not pinned in ${e.knownHostsPath} (it presented ${e.presented})`,
      `run \`ssh-keyscan -p ${c.port} -t ed25519 ${c.host}\`, confirm the fingerprint with the cluster admins, and append the line to ${e.knownHostsPath}`,
    ];
  }
  if (e instanceof SshConnectionError) {
    const cause = e.cause as { code?: string; level?: string } | undefined;
    if (cause?.code === 'ECONNREFUSED') return [`connection refused: nothing listens on ${at}`, e.hint];
    if (cause?.level === 'client-authentication') return [`authentication refused for ${c.username}@${at}`, e.hint];
    return [`cannot connect to ${at}: ${messageOf(e.cause)}`, e.hint];
  }
  return [`SSH to ${at} failed: ${messageOf(e)}`, "check the cluster's settings (`mlc config show`) and that sshd runs there"];
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
