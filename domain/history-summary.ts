// A lifecycle carries its decisions across continue-as-new so `mlc status` tells the story, but
// a model monitored for years would carry an ever longer list through every hop. The summary
// keeps what later stages still act on (each approval: rollbacks check its sha256) and the
// most recent decisions for people; the registry's decisions table keeps every one.
import type { DecisionView } from './lifecycle';

export const RECENT_DECISIONS_KEPT = 20;

export function summarizeHistory(decisions: readonly DecisionView[], recent = RECENT_DECISIONS_KEPT): DecisionView[] {
  const firstRecent = Math.max(0, decisions.length - recent);
  return decisions.filter((d, i) => i >= firstRecent || isApproval(d));
}

function isApproval(d: DecisionView): boolean {
  return d.kind === 'audit' && d.outcome === 'approved';
}
