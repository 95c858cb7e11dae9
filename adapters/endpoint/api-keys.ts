// The bearer keys the endpoint accepts. Keys are compared by their sha256 with a timing-safe
// compare against every key (no early exit), so neither a key's content, its length nor which
// key matched leaks through timing. Rate limits and anything logged name a key by a short hash,
// never the key.
import { createHash, timingSafeEqual } from 'node:crypto';

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

export class ApiKeys {
  private readonly hashes: Buffer[];

  /** `keys`: the endpoint key, and any more (one per client, or the next key during a rotation). */
  constructor(keys: readonly string[]) {
    if (!keys.length || keys.some((k) => !k)) throw new Error('the endpoint needs at least one non-empty API key; use loadEndpointKey()');
    this.hashes = [...new Set(keys)].map(sha256);
  }

  /** "key:<12 hex>" for the key an `Authorization: Bearer <key>` header presents, or null when it presents none we know. */
  identify(authorization: string | undefined): string | null {
    const match = /^Bearer\s+(.+)$/i.exec(authorization ?? '');
    const presented = sha256(match ? match[1]!.trim() : '');
    let found: Buffer | null = null;
    for (const h of this.hashes) if (timingSafeEqual(presented, h)) found = h;
    return match && found ? `key:${found.toString('hex', 0, 6)}` : null;
  }
}
