// One SSH connection per cluster, reused by every command of this process. Opening a
// connection costs a handshake and an sshd fork on the login node; polling through one
// long-lived client with a few exec channels does not. The host key is checked against the
// pinned known_hosts before authentication, so a mismatch runs nothing.
import { readFile } from 'node:fs/promises';
import ssh2 from 'ssh2';
import type { Client as SshClient, ConnectConfig } from 'ssh2';
import { HostKeyMismatchError, HostKeyUnknownError, SshConnectionError, SshTimeoutError, messageOf } from './errors';
import { fingerprint, hostKeyAlgorithms, parseKnownHosts, pinnedKeys, verifyHostKey } from './known-hosts';
import type { HostKeyVerdict } from './known-hosts';

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** Exit status; null when the command was killed by a signal. */
  code: number | null;
  signal?: string;
}

export interface ExecOptions {
  /** Written to the command's stdin, then stdin is closed. */
  stdin?: string;
  timeoutMs?: number;
}

/** What the SLURM code needs from a shell on the cluster; tests pass a fake. */
export interface CommandRunner {
  exec(command: string, options?: ExecOptions): Promise<ExecResult>;
  close(): Promise<void>;
}

export interface SshTarget {
  host: string;
  port: number;
  username: string;
  privateKeyPath?: string;
  agentSocket?: string;
  knownHostsPath: string;
}

export interface SshOptions {
  keepaliveIntervalMs?: number;
  readyTimeoutMs?: number;
  /** Concurrent exec channels on the one connection (OpenSSH's MaxSessions defaults to 10). */
  maxChannels?: number;
  /** Connection attempts per command before giving up; commands themselves are never re-sent. */
  connectAttempts?: number;
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Close the connection after this long without commands, so idle workers hold no sshd. */
  idleCloseMs?: number;
  defaultTimeoutMs?: number;
}

const defaults: Required<SshOptions> = {
  keepaliveIntervalMs: 15_000,
  readyTimeoutMs: 15_000,
  maxChannels: 4,
  connectAttempts: 3,
  backoffMs: 250,
  maxBackoffMs: 10_000,
  idleCloseMs: 5 * 60_000,
  defaultTimeoutMs: 60_000,
};

/** The channel could not be opened, so the command was never sent: safe to retry elsewhere. */
class ChannelOpenError extends Error {}

export class SshConnection implements CommandRunner {
  private readonly opts: Required<SshOptions>;
  private client: Promise<SshClient> | undefined;
  private failures = 0;
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private idleTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    readonly target: SshTarget,
    options: SshOptions = {},
  ) {
    this.opts = { ...defaults, ...options };
  }

  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    if (this.closed)
      throw new SshConnectionError(this.target.host, this.target.port, 'This executor was closed; create a new one.', {
        cause: new Error('connection closed'),
      });
    await this.acquire();
    try {
      return await this.execWithReconnect(command, options);
    } finally {
      this.release();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.idleTimer);
    const pending = this.client;
    this.client = undefined;
    if (pending) (await pending.catch(() => undefined))?.end();
  }

  private async execWithReconnect(command: string, options: ExecOptions): Promise<ExecResult> {
    for (let attempt = 1; ; attempt++) {
      let client: SshClient;
      try {
        client = await this.connection();
      } catch (e) {
        if (e instanceof HostKeyMismatchError || e instanceof HostKeyUnknownError || attempt >= this.opts.connectAttempts) throw e;
        continue;
      }
      try {
        return await this.run(client, command, options);
      } catch (e) {
        if (!(e instanceof ChannelOpenError)) throw e;
        this.forget(client);
        if (attempt >= this.opts.connectAttempts) {
          throw new SshConnectionError(
            this.target.host,
            this.target.port,
            'The connection was up but refused new channels; check MaxSessions in sshd_config.',
            { cause: e.cause },
          );
        }
      }
    }
  }

  private run(client: SshClient, command: string, options: ExecOptions): Promise<ExecResult> {
    const timeoutMs = options.timeoutMs ?? this.opts.defaultTimeoutMs;
    return new Promise((resolve, reject) => {
      client.exec(command, (err, stream) => {
        if (err) return reject(new ChannelOpenError(err.message, { cause: err }));
        const out: Buffer[] = [];
        const errOut: Buffer[] = [];
        let exit: { code: number | null; signal?: string } | undefined;
        let settled = false;
        const timer = setTimeout(() => {
          settled = true;
          stream.close();
          reject(new SshTimeoutError(this.target.host, command, timeoutMs));
        }, timeoutMs);
        stream.on('data', (d: Buffer) => out.push(d));
        stream.stderr.on('data', (d: Buffer) => errOut.push(d));
        stream.on('exit', (code: number | null, signal?: string) => {
          exit = { code: typeof code === 'number' ? code : null, signal: signal ?? undefined };
        });
        stream.on('error', () => undefined);
        stream.on('close', () => {
          clearTimeout(timer);
          if (settled) return;
          settled = true;
          if (!exit) {
            return reject(
              new SshConnectionError(
                this.target.host,
                this.target.port,
                'The connection dropped while a command ran; it is not re-sent automatically (it may have run).',
                { cause: new Error(`no exit status for \`${command.split(/\s+/, 1)[0]}\``) },
              ),
            );
          }
          resolve({ stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(errOut).toString('utf8'), ...exit });
        });
        stream.end(options.stdin ?? undefined);
      });
    });
  }

  private connection(): Promise<SshClient> {
    if (!this.client) {
      const p = this.connect();
      this.client = p;
      p.catch(() => {
        if (this.client === p) this.client = undefined;
      });
    }
    return this.client;
  }

  private forget(client: SshClient): void {
    void this.client?.then(
      (c) => {
        if (c === client) this.client = undefined;
      },
      () => undefined,
    );
    client.end();
  }

  private async connect(): Promise<SshClient> {
    const { host, port, knownHostsPath } = this.target;
    if (this.failures > 0) {
      await sleep(Math.min(this.opts.backoffMs * 2 ** (this.failures - 1), this.opts.maxBackoffMs));
    }
    const known = await readFile(knownHostsPath, 'utf8').catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return '';
      throw new SshConnectionError(host, port, `Cannot read the pinned known_hosts file ${knownHostsPath}; check knownHostsPath.`, { cause: e });
    });
    const pinned = pinnedKeys(parseKnownHosts(known), host, port);
    const auth: Pick<ConnectConfig, 'privateKey' | 'agent'> = {};
    if (this.target.privateKeyPath) {
      auth.privateKey = await readFile(this.target.privateKeyPath).catch((e: unknown) => {
        throw new SshConnectionError(host, port, `Cannot read the private key file ${this.target.privateKeyPath}; check privateKeyPath (MLC_SLURM_KEY).`, {
          cause: e,
        });
      });
    }
    if (this.target.agentSocket) auth.agent = this.target.agentSocket;
    if (!auth.privateKey && !auth.agent) {
      throw new SshConnectionError(host, port, 'Set privateKeyPath or agentSocket in the cluster config.', { cause: new Error('no credentials configured') });
    }

    let verdict: { v: HostKeyVerdict; presented: string } | undefined;
    const client = new ssh2.Client();
    const algorithms = hostKeyAlgorithms(pinned);
    return new Promise<SshClient>((resolve, reject) => {
      let ready = false;
      client.on('ready', () => {
        ready = true;
        this.failures = 0;
        resolve(client);
      });
      client.on('error', (err: Error & { level?: string; code?: string }) => {
        if (ready) return; // 'close' follows; the next command reconnects
        this.failures++;
        if (verdict && verdict.v === 'unknown') {
          return reject(new HostKeyUnknownError(host, port, verdict.presented, knownHostsPath, { cause: err }));
        }
        if (verdict && verdict.v !== 'ok') {
          const expected = pinned.accepted.map((e) => fingerprint(e.blob));
          const presented = verdict.v === 'revoked' ? `${verdict.presented} (marked @revoked)` : verdict.presented;
          return reject(new HostKeyMismatchError(host, port, expected, presented, knownHostsPath, { cause: err }));
        }
        reject(new SshConnectionError(host, port, connectionHint(err, this.target), { cause: err }));
      });
      client.on('close', () => {
        void this.client?.then(
          (c) => {
            if (c === client) this.client = undefined;
          },
          () => undefined,
        );
      });
      try {
        this.connectClient(client, auth, algorithms, (key) => {
          verdict = { v: verifyHostKey(pinned, key), presented: fingerprint(key) };
          return verdict.v === 'ok';
        });
      } catch (e) {
        // ssh2 throws here for a key it cannot parse (e.g. passphrase-protected).
        this.failures++;
        reject(
          new SshConnectionError(
            host,
            port,
            `The private key ${this.target.privateKeyPath ?? ''} cannot be used: keys with a passphrase need the agent (set agentSocket).`,
            { cause: e },
          ),
        );
      }
    });
  }

  private connectClient(client: SshClient, auth: Pick<ConnectConfig, 'privateKey' | 'agent'>, algorithms: string[], verify: (key: Buffer) => boolean): void {
    const { host, port, username } = this.target;
    client.connect({
      host,
      port,
      username,
      ...auth,
      readyTimeout: this.opts.readyTimeoutMs,
      keepaliveInterval: this.opts.keepaliveIntervalMs,
      keepaliveCountMax: 3,
      ...(algorithms.length ? { algorithms: { serverHostKey: algorithms as never } } : {}),
      hostVerifier: verify,
    });
  }

  private async acquire(): Promise<void> {
    clearTimeout(this.idleTimer);
    if (this.active < this.opts.maxChannels) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) return next(); // the slot passes straight to the next command
    this.active--;
    if (this.active === 0 && this.client && !this.closed) {
      this.idleTimer = setTimeout(() => {
        const c = this.client;
        this.client = undefined;
        void c?.then(
          (client) => client.end(),
          () => undefined,
        );
      }, this.opts.idleCloseMs);
      this.idleTimer.unref();
    }
  }
}

function connectionHint(err: Error & { level?: string; code?: string }, t: SshTarget): string {
  if (err.level === 'client-authentication') {
    return `The server refused our key for user "${t.username}": check username, and that the public key of ${t.privateKeyPath ?? `the agent at ${t.agentSocket}`} is in ~${t.username}/.ssh/authorized_keys on the cluster.`;
  }
  if (err.level === 'client-timeout') return 'The SSH handshake timed out: check the host, port, VPN or firewall.';
  switch (err.code) {
    case 'ECONNREFUSED':
      return `Nothing accepts connections on port ${t.port}: is sshd running there (dev: \`bash scripts/services.sh start\`)? Check host and port in the cluster config.`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `The host name does not resolve: check host in the cluster config (${messageOf(err)}).`;
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'The host is unreachable: check the network, VPN or firewall.';
    default:
      return 'Check the host, port and credentials in the cluster config, and that sshd is running.';
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
