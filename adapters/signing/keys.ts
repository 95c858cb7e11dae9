// Ed25519 identities for people and services. A private key stays in its owner's config
// folder (mode 0600) and never enters Temporal; what the product stores and compares is the
// public key, written "ed25519:<base64 of the 32 raw bytes>" so it fits a YAML spec or a CLI flag.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { readOrCreateSecretFile } from '../secrets/secret-file';

const PREFIX = 'ed25519:';
// DER header of an Ed25519 SubjectPublicKeyInfo; the 32 raw key bytes follow it.
const SPKI_HEADER = Buffer.from('302a300506032b6570032100', 'hex');

export class SigningKeyError extends Error {
  override name = 'SigningKeyError';
}

export interface KeyPair {
  privateKey: KeyObject;
  publicKey: string;
}

export function generateSigningKey(): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicKey: formatPublicKey(publicKey) };
}

export function formatPublicKey(key: KeyObject): string {
  const der = key.export({ type: 'spki', format: 'der' });
  return PREFIX + der.subarray(SPKI_HEADER.length).toString('base64');
}

export function parsePublicKey(text: string): KeyObject {
  const raw = text.startsWith(PREFIX) ? Buffer.from(text.slice(PREFIX.length), 'base64') : null;
  if (!raw || raw.length !== 32) {
    throw new SigningKeyError(`not an Ed25519 public key: "${text.slice(0, 60)}"; expected "ed25519:" and 44 base64 characters, as \`mlc keys init\` prints`);
  }
  return createPublicKey({ key: Buffer.concat([SPKI_HEADER, raw]), format: 'der', type: 'spki' });
}

/** Short, stable name of a public key: the DSSE keyid, and what `mlc keys list` shows. */
export function keyIdOf(publicKey: string): string {
  return createHash('sha256').update(publicKey).digest('hex').slice(0, 16);
}

/** ~/.config/mlc/keys (or $XDG_CONFIG_HOME/mlc/keys, or $MLC_KEYS_DIR): one PEM per identity. */
export function keysDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MLC_KEYS_DIR) return env.MLC_KEYS_DIR;
  return path.join(env.XDG_CONFIG_HOME || path.join(homedir(), '.config'), 'mlc', 'keys');
}

export function privateKeyPath(name: string, dir = keysDir()): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/.test(name)) throw new SigningKeyError(`"${name}" cannot name a key file; use letters, digits, . _ @ -`);
  return path.join(dir, `${name}.key`);
}

/** Writes a new key for `name`; refuses to overwrite one (a lost key cannot be recovered). */
export async function initPrivateKey(name: string, dir = keysDir()): Promise<{ path: string; publicKey: string }> {
  const file = privateKeyPath(name, dir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const pair = generateSigningKey();
  const pem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' });
  try {
    await writeFile(file, pem, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new SigningKeyError(
        `${file} exists already; its public key is ${formatPublicKey(createPublicKey(await readPrivateKey(file)))}. Remove it first to replace it.`,
      );
    }
    throw e;
  }
  await chmod(file, 0o600);
  return { path: file, publicKey: pair.publicKey };
}

async function readPrivateKey(file: string): Promise<KeyObject> {
  return createPrivateKey(await readFile(file));
}

/** The private key of `name`; refuses a key file others can read, as ssh does. */
export async function loadPrivateKey(name: string, dir = keysDir()): Promise<{ privateKey: KeyObject; publicKey: string }> {
  return loadPrivateKeyFile(privateKeyPath(name, dir), name);
}

export async function loadPrivateKeyFile(file: string, name = path.basename(file, '.key')): Promise<{ privateKey: KeyObject; publicKey: string }> {
  let mode: number;
  try {
    mode = (await stat(file)).mode;
  } catch {
    throw new SigningKeyError(
      `no signing key for ${name} at ${file}: create one with \`mlc keys init --as ${name}\` and have an admin register its public key (mlc keys add)`,
    );
  }
  if (mode & 0o077) throw new SigningKeyError(`${file} is readable by others (mode ${(mode & 0o777).toString(8)}); run chmod 600 ${file}`);
  const privateKey = await readPrivateKey(file);
  return { privateKey, publicKey: formatPublicKey(createPublicKey(privateKey)) };
}

/** The worker's own key (it signs the monitor's requests), created on first use beside the other secrets. */
export async function loadOrCreateServiceKey(file: string): Promise<{ privateKey: KeyObject; publicKey: string }> {
  // Several workers may start at once: the file appears whole, and all of them use the one that won.
  await readOrCreateSecretFile(file, () => generateSigningKey().privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  return loadPrivateKeyFile(file);
}
