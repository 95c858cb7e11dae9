// Against an in-process ssh2 server, so the connection logic is tested without sshd. The
// real sshd is covered by test/integration/slurm.test.ts.
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ssh2 from 'ssh2';
import type { Connection } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostKeyMismatchError, HostKeyUnknownError, SshConnectionError, SshTimeoutError } from './errors';
import { SshConnection } from './ssh';
import type { SshTarget } from './ssh';

const hostKey = ssh2.utils.generateKeyPairSync('ed25519');
const otherHostKey = ssh2.utils.generateKeyPairSync('ed25519');
const userKey = ssh2.utils.generateKeyPairSync('ed25519');
const dir = mkdtempSync(path.join(tmpdir(), 'mlc-ssh-test-'));
const keyPath = path.join(dir, 'id_ed25519');
writeFileSync(keyPath, userKey.private, { mode: 0o600 });

const stats = { connections: 0, authenticated: 0, commands: 0, concurrent: 0, maxConcurrent: 0 };
const live = new Set<Connection>();

// Commands: `echo X`, `cat` (stdin back), `fail N` (exit N), `slow MS`, `hang`.
const server = new ssh2.Server({ hostKeys: [hostKey.private] }, (conn) => {
  stats.connections++;
  live.add(conn);
  conn.on('close', () => live.delete(conn));
  conn.on('error', () => undefined);
  conn.on('authentication', (ctx) => {
    const allowed = ssh2.utils.parseKey(userKey.public);
    if (ctx.method === 'publickey' && !(allowed instanceof Error) && ctx.key.data.equals(allowed.getPublicSSH())) {
      stats.authenticated++;
      return ctx.accept();
    }
    ctx.reject(['publickey']);
  });
  conn.on('ready', () => {
    conn.on('session', (accept) => {
      const session = accept();
      session.on('exec', (acceptExec, _reject, info) => {
        const ch = acceptExec();
        stats.commands++;
        stats.maxConcurrent = Math.max(stats.maxConcurrent, ++stats.concurrent);
        const done = (code: number) => {
          stats.concurrent--;
          ch.exit(code);
          ch.end();
        };
        const [cmd, arg = ''] = info.command.split(' ');
        if (cmd === 'echo') {
          ch.write(`${arg}\n`);
          ch.stderr.write('warn\n');
          done(0);
        } else if (cmd === 'cat') {
          const chunks: Buffer[] = [];
          ch.on('data', (d: Buffer) => chunks.push(d));
          ch.on('end', () => {
            ch.write(Buffer.concat(chunks));
            done(0);
          });
        } else if (cmd === 'fail') done(Number(arg));
        else if (cmd === 'slow') setTimeout(() => done(0), Number(arg));
        else if (cmd === 'hang') ch.on('close', () => stats.concurrent--);
        else done(127);
      });
    });
  });
});

let port = 0;
let knownHosts = '';
const target = (over: Partial<SshTarget> = {}): SshTarget => ({
  host: '127.0.0.1',
  port,
  username: 'mlc',
  privateKeyPath: keyPath,
  knownHostsPath: knownHosts,
  ...over,
});
const knownHostsFile = (name: string, publicKey: string) => {
  const p = path.join(dir, name);
  writeFileSync(p, `[127.0.0.1]:${port} ${publicKey.split(' ').slice(0, 2).join(' ')}\n`);
  return p;
};

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  knownHosts = knownHostsFile('known_hosts', hostKey.public);
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('SshConnection', () => {
  it('runs commands over one reused connection, with stdin, stdout, stderr and exit code', async () => {
    const before = stats.connections;
    const ssh = new SshConnection(target());
    try {
      expect(await ssh.exec('echo hi')).toEqual({ stdout: 'hi\n', stderr: 'warn\n', code: 0, signal: undefined });
      expect((await ssh.exec('cat', { stdin: '#!/bin/bash\necho $(id)\n' })).stdout).toBe('#!/bin/bash\necho $(id)\n');
      expect((await ssh.exec('fail 3')).code).toBe(3);
      await Promise.all([1, 2, 3, 4, 5].map(() => ssh.exec('echo x')));
      expect(stats.connections - before).toBe(1);
    } finally {
      await ssh.close();
    }
  });

  it('limits concurrent channels on the one connection', async () => {
    const ssh = new SshConnection(target(), { maxChannels: 2 });
    stats.maxConcurrent = 0;
    try {
      await Promise.all(Array.from({ length: 6 }, () => ssh.exec('slow 40')));
      expect(stats.maxConcurrent).toBe(2);
    } finally {
      await ssh.close();
    }
  });

  it('reconnects after the server drops the connection', async () => {
    const ssh = new SshConnection(target(), { backoffMs: 10 });
    const before = stats.connections;
    try {
      await ssh.exec('echo 1');
      for (const c of live) c.end();
      await new Promise((r) => setTimeout(r, 50));
      expect((await ssh.exec('echo 2')).stdout).toBe('2\n');
      expect(stats.connections - before).toBe(2);
    } finally {
      await ssh.close();
    }
  });

  it('refuses a host whose key differs from the pinned one, before authenticating or running anything', async () => {
    const wrong = knownHostsFile('known_hosts_wrong', otherHostKey.public);
    const ssh = new SshConnection(target({ knownHostsPath: wrong }), { backoffMs: 1 });
    const { authenticated, commands } = stats;
    const err = await ssh.exec('echo should-not-run').catch((e: unknown) => e);
    await ssh.close();
    expect(err).toBeInstanceOf(HostKeyMismatchError);
    const e = err as HostKeyMismatchError;
    expect(e.message).toContain(`127.0.0.1:${port}`);
    expect(e.message).toContain(wrong);
    expect(e.expected[0]).toMatch(/^ssh-ed25519 SHA256:/);
    expect(e.presented).toMatch(/^ssh-ed25519 SHA256:/);
    expect(e.expected[0]).not.toBe(e.presented);
    expect(e.message).not.toContain(userKey.private.split('\n')[1]!);
    expect(stats.authenticated).toBe(authenticated);
    expect(stats.commands).toBe(commands);
  });

  it('refuses a host that is not pinned at all and says how to pin it', async () => {
    const empty = path.join(dir, 'known_hosts_empty');
    writeFileSync(empty, '# nothing pinned\n');
    const ssh = new SshConnection(target({ knownHostsPath: empty }));
    const err = await ssh.exec('echo x').catch((e: unknown) => e);
    await ssh.close();
    expect(err).toBeInstanceOf(HostKeyUnknownError);
    expect((err as Error).message).toContain(`ssh-keyscan -p ${port}`);
  });

  it('treats a missing known_hosts file as nothing pinned', async () => {
    const ssh = new SshConnection(target({ knownHostsPath: path.join(dir, 'nope') }));
    await expect(ssh.exec('echo x')).rejects.toBeInstanceOf(HostKeyUnknownError);
    await ssh.close();
  });

  it('reports an unreachable port with host:port and a hint, after a few backed-off attempts', async () => {
    const ssh = new SshConnection(target({ port: 1 }), { backoffMs: 5 });
    const err = await ssh.exec('echo x').catch((e: unknown) => e);
    await ssh.close();
    expect(err).toBeInstanceOf(SshConnectionError);
    expect((err as Error).message).toMatch(/127\.0\.0\.1:1\b.*ECONNREFUSED.*sshd/s);
  });

  it('reports a refused key without printing it', async () => {
    const stranger = ssh2.utils.generateKeyPairSync('ed25519');
    const strangerPath = path.join(dir, 'stranger');
    writeFileSync(strangerPath, stranger.private, { mode: 0o600 });
    const ssh = new SshConnection(target({ privateKeyPath: strangerPath }), { connectAttempts: 1 });
    const err = await ssh.exec('echo x').catch((e: unknown) => e);
    await ssh.close();
    expect(err).toBeInstanceOf(SshConnectionError);
    expect((err as Error).message).toContain('authorized_keys');
    expect((err as Error).message).toContain(strangerPath);
    expect((err as Error).message).not.toContain(stranger.private.split('\n')[1]!);
  });

  it('times out a stuck command and keeps the connection usable', async () => {
    const ssh = new SshConnection(target());
    try {
      await expect(ssh.exec('hang', { timeoutMs: 100 })).rejects.toBeInstanceOf(SshTimeoutError);
      expect((await ssh.exec('echo after')).stdout).toBe('after\n');
    } finally {
      await ssh.close();
    }
  });
});

describe('SshConnection key handling', () => {
  it('explains a passphrase-protected key instead of failing obscurely, without printing it', async () => {
    const locked = ssh2.utils.generateKeyPairSync('ed25519', { passphrase: 'secret', cipher: 'aes256-cbc', rounds: 16 });
    const lockedPath = path.join(dir, 'locked');
    writeFileSync(lockedPath, locked.private, { mode: 0o600 });
    const ssh = new SshConnection(target({ privateKeyPath: lockedPath }), { connectAttempts: 1 });
    const err = await ssh.exec('echo x').catch((e: unknown) => e);
    await ssh.close();
    expect(err).toBeInstanceOf(SshConnectionError);
    expect((err as Error).message).toMatch(/passphrase need the agent/);
    expect((err as Error).message).not.toContain(locked.private.split('\n')[1]!);
  });
});
