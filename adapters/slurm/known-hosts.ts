// Pinned host keys in OpenSSH known_hosts format: plain, `[host]:port`, wildcard, negated and
// hashed (`|1|salt|hmac`) host patterns, and the @revoked marker. We compare raw key blobs;
// a host with no entry is refused, never learned (trust on first use is how MITMs get in).
import { createHash, createHmac } from 'node:crypto';

export interface KnownHostsEntry {
  marker?: 'revoked' | 'cert-authority';
  patterns: string[];
  keyType: string;
  blob: Buffer;
  line: number;
}

export function parseKnownHosts(text: string): KnownHostsEntry[] {
  const entries: KnownHostsEntry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    let marker: KnownHostsEntry['marker'];
    if (fields[0]?.startsWith('@')) {
      const m = fields.shift()!.slice(1);
      if (m !== 'revoked' && m !== 'cert-authority') return;
      marker = m;
    }
    const [hosts, keyType, key] = fields;
    if (!hosts || !keyType || !key || !/^[A-Za-z0-9+/]+=*$/.test(key)) return;
    entries.push({ marker, patterns: hosts.split(','), keyType, blob: Buffer.from(key, 'base64'), line: i + 1 });
  });
  return entries;
}

/** The name OpenSSH looks up: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  const h = host.toLowerCase();
  return port === 22 ? h : `[${h}]:${port}`;
}

function patternMatches(pattern: string, name: string): boolean {
  if (pattern.startsWith('|1|')) {
    const [, , salt, hash] = pattern.split('|');
    if (!salt || !hash) return false;
    const mac = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
    return mac === hash;
  }
  const escaped = pattern.toLowerCase().replace(/[.+^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`^${escaped.replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return re.test(name);
}

function entryMatches(entry: KnownHostsEntry, name: string): boolean {
  let matched = false;
  for (const p of entry.patterns) {
    if (p.startsWith('!')) {
      if (patternMatches(p.slice(1), name)) return false;
    } else if (patternMatches(p, name)) {
      matched = true;
    }
  }
  return matched;
}

export interface PinnedKeys {
  accepted: KnownHostsEntry[];
  revoked: KnownHostsEntry[];
}

export function pinnedKeys(entries: KnownHostsEntry[], host: string, port: number): PinnedKeys {
  const name = knownHostsName(host, port);
  const mine = entries.filter((e) => entryMatches(e, name));
  return {
    accepted: mine.filter((e) => e.marker === undefined),
    revoked: mine.filter((e) => e.marker === 'revoked'),
  };
}

export type HostKeyVerdict = 'ok' | 'mismatch' | 'revoked' | 'unknown';

export function verifyHostKey(pinned: PinnedKeys, presented: Buffer): HostKeyVerdict {
  if (pinned.revoked.some((e) => e.blob.equals(presented))) return 'revoked';
  if (pinned.accepted.length === 0) return 'unknown';
  return pinned.accepted.some((e) => e.blob.equals(presented)) ? 'ok' : 'mismatch';
}

/** `ssh-ed25519 SHA256:...`, as `ssh-keygen -l` prints it (base64 without padding). */
export function fingerprint(blob: Buffer): string {
  const digest = createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
  return `${keyTypeOf(blob) ?? 'key'} SHA256:${digest}`;
}

/** The algorithm name an SSH public-key blob starts with (uint32 length + name). */
export function keyTypeOf(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const n = blob.readUInt32BE(0);
  if (n === 0 || n > 64 || blob.length < 4 + n) return undefined;
  return blob.subarray(4, 4 + n).toString('latin1');
}

const signatureAlgorithms: Record<string, string[]> = {
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};

/**
 * Host-key algorithms to offer, so a server with several keys presents the pinned kind
 * (as OpenSSH does) instead of one we would then call a mismatch.
 */
export function hostKeyAlgorithms(pinned: PinnedKeys): string[] {
  const out: string[] = [];
  for (const e of pinned.accepted) {
    for (const a of signatureAlgorithms[e.keyType] ?? [e.keyType]) if (!out.includes(a)) out.push(a);
  }
  return out;
}
