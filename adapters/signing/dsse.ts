// DSSE (Dead Simple Signing Envelope, secure-systems-lab/dsse), the envelope sigstore and
// in-toto use: the signature covers PAE(payloadType, payload), so a payload cannot be
// re-labelled as another type, and any tool that speaks DSSE can verify ours.
import { sign, verify, type KeyObject } from 'node:crypto';
import type { Envelope } from '../../domain/decision-statement';

export { envelopeSchema, type Envelope } from '../../domain/decision-statement';

/** Pre-Authentication Encoding: "DSSEv1 <len(type)> <type> <len(body)> <body>". */
export function pae(payloadType: string, body: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${body.length} `), body]);
}

export function signEnvelope(payloadType: string, body: Buffer, privateKey: KeyObject, keyid: string): Envelope {
  const sig = sign(null, pae(payloadType, body), privateKey);
  return { payloadType, payload: body.toString('base64'), signatures: [{ keyid, sig: sig.toString('base64') }] };
}

/** The payload bytes if one signature verifies under one of the keys, else null. */
export function verifyEnvelope(envelope: Envelope, keys: { keyid: string; key: KeyObject }[]): { body: Buffer; keyid: string } | null {
  const body = Buffer.from(envelope.payload, 'base64');
  const message = pae(envelope.payloadType, body);
  for (const s of envelope.signatures) {
    const sig = Buffer.from(s.sig, 'base64');
    for (const k of keys) {
      if (s.keyid !== undefined && s.keyid !== k.keyid) continue;
      if (verify(null, message, k.key, sig)) return { body, keyid: k.keyid };
    }
  }
  return null;
}
