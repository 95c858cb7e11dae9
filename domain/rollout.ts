// Traffic maps for a blue/green rollout on an Azure ML endpoint: pure, so the workflow can
// compute each step deterministically and tests can pin the arithmetic. Azure requires the
// percentages to be integers summing to 100.

export type TrafficMap = Record<string, number>;

/**
 * `target` gets `percent`; the deployments that had traffic share the rest in proportion
 * to what they had (largest remainder, so the sum stays exactly 100). With nothing else
 * live, the target takes everything.
 */
export function trafficStep(previous: TrafficMap, target: string, percent: number): TrafficMap {
  if (!Number.isInteger(percent) || percent < 0 || percent > 100) throw new RangeError(`traffic percent must be an integer 0..100, got ${percent}`);
  const others = Object.entries(previous).filter(([name, p]) => name !== target && p > 0);
  const otherTotal = others.reduce((s, [, p]) => s + p, 0);
  if (others.length === 0 || percent === 100) {
    return {
      ...Object.fromEntries(
        Object.keys(previous)
          .filter((n) => n !== target)
          .map((n) => [n, 0]),
      ),
      [target]: 100,
    };
  }
  const rest = 100 - percent;
  const shares = others.map(([name, p]) => ({ name, exact: (p / otherTotal) * rest }));
  const result: TrafficMap = Object.fromEntries(Object.keys(previous).map((n) => [n, 0]));
  for (const s of shares) result[s.name] = Math.floor(s.exact);
  let missing = rest - shares.reduce((sum, s) => sum + Math.floor(s.exact), 0);
  for (const s of [...shares].sort((a, b) => (b.exact % 1) - (a.exact % 1) || a.name.localeCompare(b.name))) {
    if (missing-- <= 0) break;
    result[s.name]! += 1;
  }
  result[target] = percent;
  return result;
}

/** Equal as Azure sees them: a missing entry is 0%. */
export function sameTraffic(a: TrafficMap, b: TrafficMap): boolean {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].every((k) => (a[k] ?? 0) === (b[k] ?? 0));
}

/** Deployment name of a model version on an endpoint (Azure wants 3-32 characters, so not "v1"). */
export const deploymentNameOf = (version: number) => `version-${version}`;

/** The version a deployment name stands for, or null for names we did not make. */
export function versionOfDeployment(name: string): number | null {
  const m = /^version-(\d+)$/.exec(name);
  return m ? Number(m[1]) : null;
}

/**
 * Deployments to delete: ours, without traffic, beyond the newest `keep` (the live ones
 * never count against keep and are never deleted).
 */
export function deploymentsToPrune(deployments: string[], traffic: TrafficMap, keep: number): string[] {
  const ours = deployments
    .map((name) => ({ name, version: versionOfDeployment(name) }))
    .filter((d): d is { name: string; version: number } => d.version !== null);
  const idle = ours.filter((d) => !(traffic[d.name]! > 0)).sort((a, b) => b.version - a.version);
  const liveCount = ours.length - idle.length;
  return idle.slice(Math.max(0, keep - liveCount)).map((d) => d.name);
}
