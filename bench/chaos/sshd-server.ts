// The bench's own sshd in front of the shared one-node SLURM cluster: the config rendered from
// the same template as scripts/services/sshd.sh, the same host key and authorized client key
// (.data/ssh, made by that script), another port, and a known_hosts file that pins the host
// key for that port. Restarting it, and cutting the connections it serves, reaches no other
// test's SSH sessions.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../../temporal.config';
import { commandName, Daemon, waitFor } from './daemon';

export class PrivateSshd {
  readonly daemon: Daemon;
  readonly knownHostsPath: string;
  readonly privateKeyPath: string;
  readonly username: string;
  private readonly logFile: string;

  constructor(
    dir: string,
    readonly port: number,
  ) {
    const ssh = path.join(repoRoot, '.data/ssh');
    const hostKey = path.join(ssh, 'ssh_host_ed25519_key');
    this.privateKeyPath = path.join(ssh, 'id_ed25519');
    this.knownHostsPath = path.join(dir, 'known_hosts');
    this.username = execFileSync('id', ['-un'], { encoding: 'utf8' }).trim();
    this.logFile = path.join(dir, 'sshd.log');
    const config = path.join(dir, 'sshd_config');
    let hostPublicKey: string;
    try {
      hostPublicKey = readFileSync(`${hostKey}.pub`, 'utf8').split(' ').slice(0, 2).join(' ');
      readFileSync(path.join(ssh, 'authorized_keys'));
    } catch (err) {
      throw new Error(`${ssh} has no host key or authorized_keys (${(err as Error).message}): run \`bash scripts/services.sh start sshd\` once first`);
    }
    writeFileSync(`${this.knownHostsPath}`, `[127.0.0.1]:${port} ${hostPublicKey}\n`);
    writeFileSync(
      config,
      render(readFileSync(path.join(repoRoot, 'infra/ssh/sshd_config.template'), 'utf8'), {
        PORT: String(port),
        HOST_KEY: hostKey,
        PID_FILE: path.join(dir, 'sshd.pid'),
        AUTHORIZED_KEYS: path.join(ssh, 'authorized_keys'),
        USER: this.username,
        SLURM_CONF: path.join(repoRoot, 'infra/slurm/slurm.conf'),
      }),
    );
    // -D: stays in the foreground, so the bench holds its pid and every session is its descendant.
    this.daemon = new Daemon({ name: 'sshd', command: sshdBinary(), args: ['-D', '-f', config, '-E', this.logFile], logFile: path.join(dir, 'sshd.out') });
  }

  async start(): Promise<void> {
    this.daemon.start();
    await waitFor(`the private sshd on port ${this.port}`, () => /Server listening on 127\.0\.0\.1 port/.test(this.log()), 15_000, this.daemon);
  }

  /** Logins so far: a worker's pooled connection reconnecting shows up here. */
  logins(): number {
    return this.log().match(/Accepted publickey for /g)?.length ?? 0;
  }

  /**
   * Kill the listener and the sshd process of every connection it serves (the workers' pooled
   * connections drop mid-poll, as on a network cut), then listen again; the ms until it
   * listened again. The commands those connections ran are left to finish as orphans: killing
   * them mid-way can leave their own locks behind (a login shell's `pyenv rehash` lock once
   * stalled every later SSH command on the machine for a minute each).
   */
  async restartCuttingConnections(): Promise<number> {
    const started = Date.now();
    const listening = this.log().match(/Server listening on/g)?.length ?? 0;
    await this.daemon.stop('SIGKILL', 5_000, (pid) => /^sshd/.test(commandName(pid)));
    this.daemon.start();
    await waitFor('the private sshd to listen again', () => (this.log().match(/Server listening on/g)?.length ?? 0) > listening, 15_000, this.daemon);
    return Date.now() - started;
  }

  stop(): Promise<void> {
    return this.daemon.stop('SIGTERM', 5_000);
  }

  private log(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }
}

/** Fills the template's @FIELD@ fields, as scripts/services/common.sh's render does; refuses leftovers. */
function render(template: string, fields: Record<string, string>): string {
  const text = template.replace(/@([A-Z_]+)@/g, (whole, name: string) => fields[name] ?? whole);
  const left = /@[A-Z_]+@/.exec(text);
  if (left) throw new Error(`infra/ssh/sshd_config.template: unfilled field ${left[0]}`);
  return text;
}

/** An absolute path: sshd re-executes itself for every connection. */
function sshdBinary(): string {
  for (const candidate of ['/usr/sbin/sshd', '/usr/local/sbin/sshd']) {
    try {
      execFileSync(candidate, ['-V'], { stdio: 'ignore' });
      return candidate;
    } catch (err) {
      // `sshd -V` exits non-zero after printing its version: present is what matters.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return candidate;
    }
  }
  throw new Error('sshd not found: apt-get install openssh-server (or scripts/setup.sh)');
}
