// The table bench/endpoint.ts prints: one row per (mode, clients), each beside the scorer's own
// batch-32 throughput measured in the same run: one copy (the target's definition), and the
// copies the `threads` mode runs, all scoring at once (what that mode could do at best).

export interface Row {
  mode: string;
  clients: number;
  textsPerS: number;
  p50: number;
  p99: number;
  errors: string;
  textsPerBatch: number;
  /** CPU of the endpoint's process (event loop, scoring thread, onnxruntime's pool), in cores. */
  serverCores: number;
  /** CPU of the clients' process, in cores: taken from the endpoint on the same machine. */
  clientCores: number;
  logged: number;
  answered: number;
}

/**
 * `server µs/text`: CPU time the endpoint's process spent per answered text (HTTP, scoring,
 * logging): unlike texts/s, it hardly moves when other work shares the machine.
 */
export function printTable(rows: Row[], scorer: { b32: number; copiesB32: number; copies: number }): void {
  const header = [
    'mode',
    'clients',
    'texts/s',
    'p50 ms',
    'p99 ms',
    'errors',
    'texts/predict',
    'server cores',
    'server µs/text',
    'client cores',
    'vs b32',
    'vs copies b32',
    'logged = answered',
  ];
  const table = rows.map((r) => [
    r.mode,
    String(r.clients),
    r.textsPerS.toFixed(0),
    r.p50.toFixed(1),
    r.p99.toFixed(1),
    r.errors,
    r.textsPerBatch.toFixed(1),
    r.serverCores.toFixed(2),
    ((r.serverCores * 1e6) / r.textsPerS).toFixed(0),
    r.clientCores.toFixed(2),
    `${((r.textsPerS / scorer.b32) * 100).toFixed(0)}%`,
    `${((r.textsPerS / scorer.copiesB32) * 100).toFixed(0)}%`,
    r.logged === r.answered
      ? `yes (${r.logged})`
      : r.logged > r.answered
        ? `${r.logged - r.answered} logged unanswered`
        : `NO: ${r.answered - r.logged} unlogged`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((t) => t[i]!.length)));
  const left = new Set([0, 5]);
  for (const line of [header, ...table]) console.log(line.map((c, i) => (left.has(i) ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));

  const target = rows.find((r) => r.mode === 'threads' && r.clients === 16);
  if (target)
    console.log(
      `\ntarget (16 single-text clients, the worker's default mode): ${((target.textsPerS / scorer.b32) * 100).toFixed(0)}% of the scorer's batch-32 throughput (want ≥ 80%), ` +
        `${((target.textsPerS / scorer.copiesB32) * 100).toFixed(0)}% of its ${scorer.copies} copies' together, ` +
        `p99 ${target.p99.toFixed(0)} ms (want ≤ 100 ms)`,
    );
}
