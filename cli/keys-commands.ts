// mlc keys: identities for signed decisions. `init` makes a person's key pair on their own
// machine; `add`, `list` and `revoke` manage the registry's public keys through a worker
// (workflows/admin.ts), which also serves `mlc audit verify`.
import { randomUUID } from 'node:crypto';
import type { DecisionLogReport } from '../activities/signing';
import { initPrivateKey, keyIdOf, loadPrivateKey, parsePublicKey } from '../adapters/signing/keys';
import { userNameSchema } from '../domain/spec';
import { taskQueues } from '../domain/temporal-names';
import type { SigningKeyChange } from '../workflows/admin';
import { CliError } from './cli-error';
import type { CliContext } from './context';

export async function keysInitCommand(opts: { as: string }) {
  const { path, publicKey } = await initPrivateKey(checkedName(opts.as));
  console.log(`✓ private key for ${opts.as}: ${path} (mode 0600; it never leaves this machine)`);
  console.log(`  public key: ${publicKey}`);
  console.log(`  next: an admin registers it with  mlc keys add ${opts.as} ${publicKey}`);
}

/** Prints the public key of a key made with init (for scripts: `mlc keys show --as alice`). */
export async function keysShowCommand(opts: { as: string }) {
  const { publicKey } = await loadPrivateKey(checkedName(opts.as));
  console.log(publicKey);
}

function admin<R>(ctx: CliContext, workflow: string, arg: unknown): Promise<R> {
  return ctx.client.workflow.execute(workflow, { taskQueue: taskQueues.control, workflowId: `mlc-admin-${workflow}-${randomUUID()}`, args: [arg] });
}

export async function keysAddCommand(ctx: CliContext, name: string, publicKey: string, opts: { by?: string }) {
  try {
    parsePublicKey(publicKey);
  } catch (e) {
    throw new CliError((e as Error).message, 2);
  }
  const change: SigningKeyChange = { action: 'add', name: checkedName(name), publicKey, addedBy: opts.by ?? process.env.USER ?? 'unknown' };
  await admin(ctx, 'changeSigningKey', change);
  console.log(`✓ ${name}'s key ${keyIdOf(publicKey)} is registered: decisions signed with it count as ${name}'s`);
}

export async function keysRevokeCommand(ctx: CliContext, publicKey: string) {
  const { revoked } = await admin<{ revoked?: boolean }>(ctx, 'changeSigningKey', { action: 'revoke', publicKey } satisfies SigningKeyChange);
  console.log(
    revoked ? `✓ key ${keyIdOf(publicKey)} revoked: statements signed with it no longer count` : `key ${keyIdOf(publicKey)} was not in force; nothing changed`,
  );
}

export async function keysListCommand(ctx: CliContext, name?: string) {
  const keys = await admin<{ name: string; keyId: string; publicKey: string; addedBy: string; addedAt: string }[]>(
    ctx,
    'listSigningKeys',
    name ? { name } : {},
  );
  if (!keys.length) return console.log(name ? `no key in force for ${name}` : 'no keys registered (mlc keys init --as <you>, then mlc keys add)');
  for (const k of keys) console.log(`${k.name.padEnd(16)} ${k.keyId}  added ${k.addedAt.slice(0, 19)} by ${k.addedBy}  ${k.publicKey}`);
}

/** Exits 1 when a link or a signature fails, naming the first row that does. */
export async function auditVerifyCommand(ctx: CliContext, model: string) {
  const report = await admin<DecisionLogReport>(ctx, 'verifyDecisionLog', { model });
  const counts = `${report.rows} decisions, ${report.signed} signed${report.unchained ? `, ${report.unchained} recorded before the log was chained` : ''}`;
  if (!report.firstFailure) return console.log(`✓ decision log of ${model} intact: ${counts}; every hash link and signature verifies`);
  const f = report.firstFailure;
  throw new CliError(`✗ decision log of ${model} fails at decision ${f.id} (${f.decisionKey}): ${f.why}. (${counts})`, 1);
}

function checkedName(name: string): string {
  const parsed = userNameSchema.safeParse(name);
  if (!parsed.success) throw new CliError(`"${name}": ${parsed.error.issues[0]?.message}`, 2);
  return name;
}
