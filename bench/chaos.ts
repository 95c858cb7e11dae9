// Faults, with figures: lifecycles driven on real services (SLURM over SSH, PostgreSQL, a
// Temporal dev server, worker roles as processes) while workers are SIGKILLed and services
// restarted under them; a table of what was injected and what was observed, and exit status 1
// when a lifecycle was lost, stuck, duplicated a SLURM job or ended unlike the undisturbed one.
//
//   npx tsx bench/chaos.ts [--kills 20] [--lifecycles N] [--restarts 2] [--node-failures 1] [--seed S]
//                          [--kill-points queued,running,evaluating,deploying,random] [--concurrency N] [--overlap] [--keep-dir]
//
// Every service it breaks is its own (bench/chaos/stack.ts): the shared dev services stay
// untouched, except the one-node SLURM cluster, whose node a node failure takes down for a
// moment (drained first, so no other job dies). Needs `bash scripts/services.sh start`.
import { parseArgs } from 'node:util';
import { formatTable, rows, violations } from './chaos/report';
import type { Point } from './chaos/lifecycle';
import { runChaos } from './chaos/run';

const { values: args } = parseArgs({
  options: {
    kills: { type: 'string', default: '20' },
    lifecycles: { type: 'string' },
    restarts: { type: 'string', default: '2' },
    'node-failures': { type: 'string', default: '1' },
    'kill-points': { type: 'string' },
    concurrency: { type: 'string' },
    seed: { type: 'string', default: String(Date.now() % 100_000) },
    'timeout-min': { type: 'string', default: '20' },
    'keep-dir': { type: 'boolean', default: false },
    overlap: { type: 'boolean', default: false },
  },
});

const int = (name: string, value: string | undefined, min: number): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    console.error(`--${name} must be an integer ≥ ${min} (got ${value})`);
    process.exit(2);
  }
  return n;
};

const kills = int('kills', args.kills, 0);
const restarts = int('restarts', args.restarts, 0);
const nodeFailures = int('node-failures', args['node-failures'], 0);
// A lifecycle passes four states, and takes the next fault only once it recovered from the last.
const lifecycles = int('lifecycles', args.lifecycles ?? String(Math.max(2, Math.ceil((kills + 3 * restarts + nodeFailures) / 2))), 1);
// One at a time, a second lifecycle in flight would only pass its states while the first recovers.
const concurrency = int('concurrency', args.concurrency ?? (args.overlap ? '2' : '1'), 1);

const killPoints = args['kill-points']?.split(',').filter(Boolean) as (Point | 'random')[] | undefined;
const known = ['queued', 'running', 'evaluating', 'deploying', 'random'];
for (const p of killPoints ?? []) {
  if (!known.includes(p)) {
    console.error(`--kill-points: "${p}" is not one of ${known.join(', ')}`);
    process.exit(2);
  }
}

// Ctrl-C: exit handlers kill what the bench started (daemons, workers) and resume a drained node.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping what the bench started (its temp folder stays)`);
    process.exit(130);
  });
}

const started = Date.now();
const clock = (ms: number) => `${String(Math.floor(ms / 60_000)).padStart(2, '0')}:${String(Math.floor(ms / 1000) % 60).padStart(2, '0')}`;
const result = await runChaos({
  kills,
  lifecycles,
  restarts,
  nodeFailures,
  ...(killPoints ? { killPoints } : {}),
  seed: int('seed', args.seed, 0),
  concurrency,
  lifecycleTimeoutMs: int('timeout-min', args['timeout-min'], 1) * 60_000,
  keepDir: args['keep-dir'],
  oneAtATime: !args.overlap,
  log: (line) => console.error(`[${clock(Date.now() - started)}] ${line}`),
});

const broken = violations(result);
console.log(
  `\nchaos: ${result.lifecycles.length} lifecycles beside an undisturbed baseline (${(result.baseline.durationMs / 1000).toFixed(0)} s to monitoring), ` +
    `seed ${result.seed}, ${((Date.now() - started) / 60_000).toFixed(1)} min\n`,
);
console.log(formatTable(rows(result)));
for (const m of result.missed) console.log(`not injected: ${m.fault.kind} @${m.fault.point}: ${m.why}`);
if (broken.length) {
  console.log(`\n✗ ${broken.length} invariant(s) broken:\n  ${broken.join('\n  ')}`);
  process.exit(1);
}
console.log('\n✓ no duplicate SLURM job, no lost or stuck lifecycle, every end state equal to the baseline');
if (result.missed.length) {
  console.log(`✗ but ${result.missed.length} planned fault(s) never happened (listed above): the run proves less than asked`);
  process.exit(1);
}
