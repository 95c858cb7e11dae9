// The payload codec: every payload a client or worker sends to Temporal (workflow inputs and
// results, activity arguments, signals, queries, memos, schedule arguments) leaves as AES-256-GCM
// ciphertext, so the server's history holds no spec, text or path in clear. The format is the one
// Temporal's samples use, so other tools recognise it: encoding "binary/encrypted", the key's id
// in "encryption-key-id", data = 12-byte IV | ciphertext of the whole original Payload | 16-byte tag.
import type { DataConverter } from '@temporalio/client';
// The default import: @temporalio/proto is CommonJS whose names Node's ESM loader cannot see.
import proto from '@temporalio/proto';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { CodecKey, Keyring } from './keys';

export type Payload = proto.temporal.api.common.v1.IPayload;
const PayloadMessage = proto.temporal.api.common.v1.Payload;
export type PayloadCodec = NonNullable<DataConverter['payloadCodecs']>[number];

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
const ENCODING_METADATA = 'encoding';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class PayloadDecryptionError extends Error {
  override name = 'PayloadDecryptionError';
  constructor(
    message: string,
    readonly keyId: string | null,
  ) {
    super(message);
  }
}

const utf8 = (s: string) => Buffer.from(s, 'utf8');
const text = (b: Uint8Array | null | undefined) => (b ? Buffer.from(b).toString('utf8') : undefined);

export class EncryptionCodec implements PayloadCodec {
  constructor(readonly keyring: Keyring) {}

  get primaryKeyId(): string {
    return this.keyring.primary.id;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const { primary } = this.keyring;
    return payloads.map((payload) => ({
      metadata: { [ENCODING_METADATA]: utf8(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: utf8(primary.id) },
      data: encrypt(PayloadMessage.encode(payload).finish(), primary),
    }));
  }

  /** Payloads not encrypted (written before the codec, or by a plain `temporal` CLI) pass unchanged. */
  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      if (text(payload.metadata?.[ENCODING_METADATA]) !== ENCRYPTED_ENCODING) return payload;
      const keyId = text(payload.metadata?.[KEY_ID_METADATA]);
      if (!keyId) throw new PayloadDecryptionError(`an encrypted payload names no "${KEY_ID_METADATA}"; it was not written by this codec`, null);
      const key = this.keyring.keys.get(keyId);
      if (!key) {
        throw new PayloadDecryptionError(
          `a payload is encrypted with codec key "${keyId}", which this process does not have (it has ${[...this.keyring.keys.keys()].join(', ')}). ` +
            `Add that key to one of ${this.keyring.places.join(', ')}; after a rotation, old keys stay listed for decoding.`,
          keyId,
        );
      }
      const plain = decrypt(payload.data ?? new Uint8Array(), key);
      const { metadata, data } = PayloadMessage.decode(plain);
      return { metadata, data };
    });
  }
}

function encrypt(plain: Uint8Array, { key }: CodecKey): Uint8Array {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  return Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
}

function decrypt(sealed: Uint8Array, { id, key, source }: CodecKey): Buffer {
  if (sealed.length < IV_BYTES + TAG_BYTES) throw new PayloadDecryptionError(`an encrypted payload (key "${id}") is too short to be one: truncated`, id);
  const bytes = Buffer.from(sealed);
  const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
  decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]);
  } catch {
    throw new PayloadDecryptionError(
      `a payload encrypted with codec key "${id}" fails authentication: the key "${id}" in ${source} is not the one that encrypted it, or the payload was altered`,
      id,
    );
  }
}
