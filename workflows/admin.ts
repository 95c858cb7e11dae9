// Short workflows that let `mlc` reach the registry through a worker: the embedded registry
// (PGlite) belongs to the worker's process, and with PostgreSQL the history then also shows
// who registered or revoked a key, and when.
import type { DecisionLogReport } from '../activities/signing';
import { control } from './activities';

export type SigningKeyChange = { action: 'add'; name: string; publicKey: string; addedBy: string } | { action: 'revoke'; publicKey: string };

export async function changeSigningKey(change: SigningKeyChange): Promise<{ keyId?: string; revoked?: boolean }> {
  if (change.action === 'add') return control.registerSigningKey(change);
  return { revoked: await control.revokeSigningKey({ publicKey: change.publicKey }) };
}

export async function listSigningKeys(input: { name?: string }) {
  return control.listSigningKeys(input);
}

/** Re-checks a model's decision log: every hash link and every signature. */
export async function verifyDecisionLog(input: { model: string }): Promise<DecisionLogReport> {
  return control.verifyDecisionLog(input);
}
