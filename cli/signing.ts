// Signing on the decider's machine: `mlc audit approve --as alice` signs with alice's key
// (mlc keys init) a statement about exactly what `mlc status` shows — this lifecycle,
// generation, version and the digests of its artifacts and evaluation — so the worker can
// tell alice from someone typing her name.
import { existsSync } from 'node:fs';
import type { WorkflowHandle } from '@temporalio/client';
import { signDecision } from '../adapters/signing/decisions';
import { keysDir, loadPrivateKey, privateKeyPath } from '../adapters/signing/keys';
import type { DecisionSubjects, Envelope, SignedDecisionKind } from '../domain/decision-statement';
import type { LifecycleStatus } from '../domain/lifecycle';
import { statusQuery } from '../workflows/messages';
import { CliError } from './cli-error';

export interface SignRequest {
  kind: SignedDecisionKind;
  actor: string;
  reason: string;
  /** The version the decision is about; default: the one the lifecycle has at stake. */
  version?: number;
  paramsOverride?: Record<string, unknown>;
  /** Sign even without a key on file: fail instead of sending unsigned. */
  require?: boolean;
}

/** The statement for `request`, signed with the actor's key; null when they have no key and none is required. */
export async function signFor(handle: WorkflowHandle, request: SignRequest): Promise<Envelope | null> {
  if (!hasKey(request)) return null;
  const status: LifecycleStatus = await handle.query(statusQuery);
  const version = request.version ?? (request.kind === 'retrain' ? status.deployedVersion : status.version);
  // Rollbacks and retrain requests concern a live or earlier version, not the one under audit.
  const evidence = request.kind === 'approve' || request.kind === 'reject' || request.kind === 'deploy' ? status.evidence : null;
  return signAbout(request, { lifecycle: handle.workflowId, generation: status.generation, model: status.model, version, evidence: evidence ?? null });
}

/** What a statement is about when no lifecycle query says it: `mlc undeploy`'s own workflow. */
export interface StatementSubject {
  lifecycle: string;
  generation: number | null;
  model: string;
  version: number | null;
  evidence: DecisionSubjects | null;
}

/** As signFor, for a decision that names its subject itself; null when the actor has no key and none is required. */
export async function signAbout(request: SignRequest, about: StatementSubject): Promise<Envelope | null> {
  if (!hasKey(request)) return null;
  const key = await loadPrivateKey(request.actor);
  const { evidence } = about;
  return signDecision(
    {
      lifecycle: about.lifecycle,
      generation: about.generation,
      model: about.model,
      version: about.version,
      decision: request.kind,
      actor: request.actor,
      reason: request.reason,
      ...(request.paramsOverride ? { paramsOverride: request.paramsOverride } : {}),
      ...(evidence?.snapshot ? { snapshot: evidence.snapshot } : {}),
    },
    { manifestSha256: evidence?.manifestSha256 ?? null, evaluationSha256: evidence?.evaluationSha256 ?? null },
    key,
  );
}

function hasKey(request: SignRequest): boolean {
  if (existsSync(privateKeyPath(request.actor))) return true;
  if (!request.require) return false;
  throw new CliError(
    `no signing key for ${request.actor} in ${keysDir()}: create one with mlc keys init --as ${request.actor}, and have an admin register it (mlc keys add)`,
    2,
  );
}

/** What to paste into `temporal workflow signal` for people who drive Temporal directly. */
export function signalCommand(workflowId: string, signalName: string, message: unknown): string {
  return `temporal workflow signal --workflow-id ${shellQuoted(workflowId)} --name ${signalName} --input ${shellQuoted(JSON.stringify(message))}`;
}

/** What to paste into `temporal workflow start` for a workflow mlc would start (mlc undeploy). */
export function startCommand(workflowId: string, workflowType: string, taskQueue: string, input: unknown): string {
  return `temporal workflow start --task-queue ${taskQueue} --type ${workflowType} --workflow-id ${shellQuoted(workflowId)} --input ${shellQuoted(JSON.stringify(input))}`;
}

export function printSignal(workflowId: string, signalName: string, message: unknown): void {
  console.log(signalCommand(workflowId, signalName, message));
}

/** One shell word whatever it holds: a reason may carry quotes, `$(…)` or new lines. */
function shellQuoted(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
