// The payload codec's keys. Several at once, so that keys can rotate: payloads are encrypted
// with the primary key (the first one found) and decrypted with whichever key their
// `encryption-key-id` names, so history written under an old key stays readable for as long as
// that key is listed. Keys come first from the variable temporal.codec.keysEnv names (how
// production injects them), then from the key files; on a fresh machine, where there is no key
// anywhere, the first key file is created holding one new key.
import { randomBytes } from 'node:crypto';
import type { CodecConfig } from '../../config/schema';
import { createSecretFile, readSecretFile } from '../secrets/secret-file';

export class CodecKeyError extends Error {
  override name = 'CodecKeyError';
  readonly nonRetryable = true;
}

export interface CodecKey {
  id: string;
  /** 32 bytes: an AES-256 key. */
  key: Buffer;
  /** Where it was read: "env MLC_CODEC_KEYS" or a file path. Never the key itself. */
  source: string;
}

export interface Keyring {
  primary: CodecKey;
  keys: ReadonlyMap<string, CodecKey>;
  /** Where keys are looked for, for error messages: the variable and each file. */
  places: string[];
}

const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
// Standard base64 of exactly 32 bytes; Buffer.from(…, 'base64') would accept almost anything.
const KEY_32_BYTES_BASE64 = /^[A-Za-z0-9+/]{43}=$/;

const KEY_FILE_HEADER = `# Payload codec keys (AES-256-GCM), one "<key id>:<base64 of 32 bytes>" per line.
# The first key encrypts; every key listed decrypts. To rotate, add the new key as the first
# line and keep the old ones below it for as long as histories encrypted with them exist.
`;

/** Entries "<id>:<base64 key>", separated by newlines, spaces or commas; "#" starts a comment. */
export function parseKeys(text: string, source: string): CodecKey[] {
  const entries = text
    .split('\n')
    .map((line) => line.replace(/#.*/, ''))
    .join(' ')
    .split(/[\s,]+/)
    .filter(Boolean);
  return entries.map((entry, i) => {
    const colon = entry.indexOf(':');
    const id = colon > 0 ? entry.slice(0, colon) : '';
    const encoded = entry.slice(colon + 1);
    // Errors name the entry by position and id, never by its text: that may be key material.
    const where = `${source}, entry ${i + 1}`;
    if (!KEY_ID.test(id)) throw new CodecKeyError(`${where}: not "<key id>:<base64 key>" with a key id of letters, digits, ".", "_" or "-"`);
    if (!KEY_32_BYTES_BASE64.test(encoded)) {
      throw new CodecKeyError(`${where} (key id ${id}): the key is not 32 bytes of standard base64; make one with \`openssl rand -base64 32\``);
    }
    return { id, key: Buffer.from(encoded, 'base64'), source };
  });
}

/** A fresh key entry; its id carries the date so a key file reads as a rotation history. */
export function newKeyEntry(now = new Date()): string {
  const day = now.toISOString().slice(0, 10).replaceAll('-', '');
  return `k${day}-${randomBytes(3).toString('hex')}:${randomBytes(32).toString('base64')}`;
}

export async function loadKeyring(codec: CodecConfig, env: NodeJS.ProcessEnv = process.env): Promise<Keyring> {
  const keys: CodecKey[] = [];
  const fromEnv = env[codec.keysEnv]?.trim();
  if (fromEnv) keys.push(...parseKeys(fromEnv, `env ${codec.keysEnv}`));
  for (const file of codec.keyFiles) {
    const text = await readSecretFile(file);
    if (text !== null) keys.push(...parseKeys(text, file));
  }
  const places = [`env ${codec.keysEnv}`, ...codec.keyFiles];
  if (!keys.length) {
    const first = codec.keyFiles[0]!;
    if ((await readSecretFile(first)) !== null) {
      throw new CodecKeyError(
        `no payload codec key: ${first} lists none and ${codec.keysEnv} is unset; add a line "<key id>:<base64 key>" or delete the file to have one made`,
      );
    }
    keys.push(...parseKeys(await createSecretFile(first, `${KEY_FILE_HEADER}${newKeyEntry()}\n`), first));
  }
  const byId = new Map<string, CodecKey>();
  for (const k of keys) {
    const seen = byId.get(k.id);
    if (seen && !seen.key.equals(k.key)) {
      throw new CodecKeyError(`two different keys share the id ${k.id} (${seen.source} and ${k.source}); give the newer one a new id`);
    }
    if (!seen) byId.set(k.id, k);
  }
  return { primary: keys[0]!, keys: byId, places };
}
