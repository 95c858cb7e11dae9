// `mlc cluster check <name> [--spec FILE]`: one ✓/✗ line per thing a training job needs from
// a cluster, each failure with its fix, so a broken setup is found in seconds instead of after
// a lifecycle queued for an hour. Exit 0 when nothing failed (skipped checks do not fail it).
import { checkCluster, type ClusterCheckReport } from '../adapters/slurm/cluster-check';
import type { ClusterProfile } from '../domain/spec';
import { loadConfig } from '../temporal.config';
import { CliError } from './cli-error';
import { readSpecFile } from './spec-file';

export interface ClusterCheckFlags {
  spec?: string;
  json?: boolean;
  timeout?: string;
}

export async function clusterCheckCommand(name: string, flags: ClusterCheckFlags): Promise<void> {
  const config = loadConfig();
  const cluster = config.clusters[name];
  if (!cluster) {
    throw new CliError(
      `cluster "${name}" is not configured (configured: ${Object.keys(config.clusters).join(', ')}); add it under "clusters:" in the MLC_CONFIG file`,
      2,
    );
  }
  const waitSeconds = Number(flags.timeout ?? 300);
  if (!Number.isFinite(waitSeconds) || waitSeconds <= 0) throw new CliError(`--timeout ${flags.timeout}: a number of seconds, e.g. 300`, 2);
  let profile: ClusterProfile | undefined;
  const notes: string[] = [];
  if (flags.spec) {
    const { spec } = await readSpecFile(flags.spec);
    profile = spec.training.profile;
    if (spec.training.cluster !== name) notes.push(`note: ${flags.spec} trains on "${spec.training.cluster}"; checking its profile against "${name}"`);
  }
  const report = await checkCluster(name, cluster, { workerArtifacts: config.paths.artifacts, profile, waitMs: waitSeconds * 1000 });
  console.log(flags.json ? JSON.stringify(report, null, 2) : [...notes, formatClusterReport(report)].join('\n'));
  process.exitCode = report.ok ? 0 : 1;
}

const marks = { pass: '✓', fail: '✗', skip: '–' } as const;

export function formatClusterReport(report: ClusterCheckReport): string {
  const width = Math.max(...report.results.map((r) => r.check.length)) + 2;
  const pad = ' '.repeat(width + 2);
  const lines = [`cluster ${report.cluster} (${report.executor} executor)`];
  for (const r of report.results) {
    lines.push(`${marks[r.status]} ${r.check.padEnd(width)}${r.detail.split('\n').join(`\n${pad}`)}`);
    if (r.fix) lines.push(`${pad}fix: ${r.fix}`);
  }
  const failed = report.results.filter((r) => r.status === 'fail').length;
  lines.push(
    failed
      ? `${failed} check${failed > 1 ? 's' : ''} failed`
      : `all checks passed${report.results.some((r) => r.status === 'skip') ? ' (some not applicable)' : ''}`,
  );
  return lines.join('\n');
}
