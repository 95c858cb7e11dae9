// How much does following N SLURM jobs cost? The batched watcher (one squeue per interval for
// all jobs) against a naive poller (one `squeue -j <id>` per job per interval), measured side by
// side in one run: SLURM commands per interval, worker CPU per interval, wall time per round.
//
//   npx tsx bench/slurm-polling.ts [--sizes 10,100,500] [--intervals 3] [--interval-ms 1000] [--fake]
//
// Against the dev cluster (scripts/services.sh start) when it answers over SSH: the N jobs
// are the tasks of one held job array (PENDING, costing no CPU), cancelled at the end.
// Otherwise, or with --fake, against an in-process fake controller that answers in SLURM's
// real formats with no SSH: the command counts hold, the CPU numbers are then only ours.
import { setMaxListeners } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { FakeCluster } from '../test/fakes/fake-cluster';
import { parseSqueue, squeueCommand } from '../adapters/slurm/parse';
import { SshConnection } from '../adapters/slurm/ssh';
import type { CommandRunner, ExecOptions, ExecResult } from '../adapters/slurm/ssh';
import { jobStatus } from '../adapters/slurm/status';
import { JobWatcher } from '../adapters/slurm/watcher';
import { loadConfig, repoRoot } from '../temporal.config';

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10,100,500' },
    intervals: { type: 'string', default: '3' },
    'interval-ms': { type: 'string', default: '1000' },
    fake: { type: 'boolean', default: false },
  },
});
const sizes = args.sizes.split(',').map(Number);
const intervals = Number(args.intervals);
const intervalMs = Number(args['interval-ms']);

/** Counts what goes through, whatever the runner underneath. */
class CountingRunner implements CommandRunner {
  commands = 0;
  constructor(private readonly inner: CommandRunner) {}
  exec(command: string, options?: ExecOptions): Promise<ExecResult> {
    this.commands++;
    return this.inner.exec(command, options);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

interface Sample {
  commandsPerInterval: number;
  cpuMsPerInterval: number;
  roundMs: number;
  controllerCpuMsPerInterval?: number;
}

const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** slurmctld's CPU time (ms) when it runs on this machine, for the controller's side of the cost. */
function controllerCpuMs(): number | undefined {
  if (!real) return undefined;
  try {
    const pid = readFileSync(path.join(repoRoot, '.data/run/slurmctld.pid'), 'utf8').trim();
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime + stime, in USER_HZ (100/s)
  } catch {
    return undefined;
  }
}

/**
 * Rounds of `round`, one per interval. A round slower than the interval simply runs late (a
 * poller that cannot keep up); past `budgetMs` we stop early, after at least one round.
 */
async function measure(runner: CountingRunner, round: () => Promise<void>, budgetMs: number): Promise<Sample & { rounds: number }> {
  const c0 = runner.commands;
  const ctl0 = controllerCpuMs();
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  let busy = 0;
  let rounds = 0;
  while (rounds < intervals && (rounds === 0 || performance.now() - start < budgetMs)) {
    const t = performance.now();
    await round();
    const took = performance.now() - t;
    busy += took;
    rounds++;
    if (took < intervalMs) await sleep(intervalMs - took);
  }
  const ctl1 = controllerCpuMs();
  return {
    rounds,
    commandsPerInterval: (runner.commands - c0) / rounds,
    cpuMsPerInterval: cpuMs(process.cpuUsage(cpu0)) / rounds,
    roundMs: busy / rounds,
    ...(ctl0 !== undefined && ctl1 !== undefined ? { controllerCpuMsPerInterval: (ctl1 - ctl0) / rounds } : {}),
  };
}

/** The batched path exactly as waitFor uses it: the watcher's own timer and rounds. */
async function measureBatched(runner: CountingRunner, ids: string[]): Promise<Sample> {
  const watcher = new JobWatcher(runner, { intervalMs, missingRoundsBeforeGone: 1_000_000 });
  const abort = new AbortController();
  setMaxListeners(0, abort.signal); // one signal for all N waiters
  const waits = ids.map((id) => watcher.track(id, { signal: abort.signal }).catch(() => undefined));
  await sleep(intervalMs * 1.5); // warm-up round
  const c0 = runner.commands;
  const r0 = watcher.counts.rounds;
  const ctl0 = controllerCpuMs();
  const cpu0 = process.cpuUsage();
  await sleep(intervalMs * intervals);
  const rounds = Math.max(1, watcher.counts.rounds - r0);
  const cpu = cpuMs(process.cpuUsage(cpu0));
  const ctl1 = controllerCpuMs();
  const commands = runner.commands - c0;
  abort.abort();
  await Promise.all(waits);
  watcher.stop();
  // Round wall time, measured separately so the idle wait is not counted.
  const t = performance.now();
  await new JobWatcher(runner, { intervalMs }).poll(ids);
  return {
    commandsPerInterval: commands / rounds,
    cpuMsPerInterval: cpu / rounds,
    roundMs: performance.now() - t,
    ...(ctl0 !== undefined && ctl1 !== undefined ? { controllerCpuMsPerInterval: (ctl1 - ctl0) / rounds } : {}),
  };
}

/** What pollers that treat each job alone do: one squeue per job per interval. */
function naiveRound(runner: CommandRunner, ids: string[]): () => Promise<void> {
  return async () => {
    await Promise.all(
      ids.map(async (id) => {
        const r = await runner.exec(squeueCommand({ jobIds: [id] }), { timeoutMs: 60_000 });
        jobStatus(id, parseSqueue(r.stdout));
      }),
    );
  };
}

async function realCluster(): Promise<{ runner: CommandRunner; label: string } | undefined> {
  if (args.fake) return undefined;
  const cfg = loadConfig().clusters.local;
  if (!cfg || cfg.executor !== 'slurm') return undefined;
  const ssh = new SshConnection(cfg, { connectAttempts: 1 });
  try {
    const r = await ssh.exec('squeue --version', { timeoutMs: 10_000 });
    if (r.code !== 0) throw new Error(r.stderr);
    return { runner: ssh, label: `real cluster ${cfg.username}@${cfg.host}:${cfg.port} over SSH (${r.stdout.trim()})` };
  } catch (e) {
    console.error(`dev cluster not reachable (${(e as Error).message.split('\n')[0]}); using the fake runner`);
    await ssh.close();
    return undefined;
  }
}

async function heldArray(runner: CommandRunner, n: number): Promise<{ ids: string[]; cleanup: () => Promise<void> }> {
  const script = `#!/bin/bash\n#SBATCH --job-name=mlc-bench-polling\n#SBATCH --array=0-${n - 1}\n#SBATCH --hold\n#SBATCH --output=/dev/null\n#SBATCH --mem=10M\ntrue\n`;
  const r = await runner.exec('sbatch --parsable', { stdin: script, timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`sbatch failed: ${r.stderr}`);
  const arrayId = r.stdout.trim().split(';')[0]!;
  return {
    ids: Array.from({ length: n }, (_, i) => `${arrayId}_${i}`),
    cleanup: async () => void (await runner.exec(`scancel ${arrayId}`, { timeoutMs: 60_000 })),
  };
}

function fakeRunner(n: number): { runner: CommandRunner; ids: string[] } {
  const cluster = new FakeCluster();
  const ids = Array.from({ length: n }, (_, i) => String(10_000 + i));
  for (const id of ids) cluster.add({ id, state: 'PENDING', reason: 'JobHeldUser', name: 'mlc-bench' });
  return { runner: cluster, ids };
}

let real: { runner: CommandRunner; label: string } | undefined;

async function main(): Promise<void> {
  real = await realCluster();
  console.log(`SLURM polling: batched watcher vs one squeue per job per interval`);
  console.log(
    `target: ${real ? real.label : 'fake runner (in-process controller, SLURM 22.05 output formats, no SSH): command counts are real, CPU is ours only'}`,
  );
  console.log(`${intervals} intervals of ${intervalMs} ms per measurement (batched after one warm-up round); node ${process.version}\n`);

  const rows: string[][] = [];
  for (const n of sizes) {
    let runner: CommandRunner;
    let ids: string[];
    let cleanup = async () => {};
    if (real) {
      runner = real.runner;
      ({ ids, cleanup } = await heldArray(runner, n));
    } else {
      ({ runner, ids } = fakeRunner(n));
    }
    try {
      const batched = await measureBatched(new CountingRunner(runner), ids);
      const counting = new CountingRunner(runner);
      // The SSH connection is already warm from the batched run; naive rounds at N=500 take a
      // minute or more on the dev node, so they stop after ~40 s (at least one full round).
      const naive = await measure(counting, naiveRound(counting, ids), 40_000);
      const ratio = (a: number, b: number) => (a > 0 ? `${(b / a).toFixed(1)}x` : '-');
      const ctl = (s: Sample) => (s.controllerCpuMsPerInterval === undefined ? 'n/a' : s.controllerCpuMsPerInterval.toFixed(0));
      rows.push([
        String(n),
        batched.commandsPerInterval.toFixed(0),
        naive.commandsPerInterval.toFixed(0),
        ratio(batched.commandsPerInterval, naive.commandsPerInterval),
        batched.cpuMsPerInterval.toFixed(1),
        naive.cpuMsPerInterval.toFixed(1),
        ratio(batched.cpuMsPerInterval, naive.cpuMsPerInterval),
        batched.roundMs.toFixed(0),
        naive.roundMs.toFixed(0) + (naive.rounds < intervals ? ` (${naive.rounds} rnd)` : ''),
        ctl(batched),
        ctl(naive),
      ]);
    } finally {
      await cleanup();
    }
  }
  await real?.runner.close();

  const header = [
    'N',
    'cmds/int batched',
    'naive',
    'ratio',
    'CPU ms/int batched',
    'naive',
    'ratio',
    'round ms batched',
    'naive',
    'slurmctld CPU ms/int batched',
    'naive',
  ];
  const table = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...table.map((r) => (r[i] ?? '').length)));
  for (const r of table) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
  console.log('\nratio = naive / batched. naive = one `squeue -j <id>` exec per job per interval, over the same pooled SSH');
  console.log('connection (4 channels) -- kinder than pollers that open a connection per call.');
  console.log('Each such exec also costs the login node an SSH session, a shell and a squeue process, and the controller one RPC.');
  if (real) console.log('slurmctld CPU is read from /proc for the local dev controller, which other work may share: a rough guide.');
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
