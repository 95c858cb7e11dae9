// `mlc cluster check <name> [--spec FILE]`: one ✓/✗ line per thing a training job needs from
// a cluster, each failure with its fix, so a broken setup is found in seconds instead of after
// a lifecycle queued for an hour. Exit 0 when nothing failed (skipped checks do not fail it).
import { checkCluster, type ClusterCheckReport } from '../adapters/slurm/cluster-check';
import { formatChecks } from '../domain/checks';
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

export function formatClusterReport(report: ClusterCheckReport): string {
  return formatChecks(`cluster ${report.cluster} (${report.executor} executor)`, report.results);
}
