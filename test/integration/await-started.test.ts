// scripts/lib.sh's await_started, which every service start-up waits with (services/temporal.sh,
// services/codec.sh): a server that gets ready, one that dies while starting, one that never
// answers. Each case runs a real background process and a real bash with lib.sh sourced.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../temporal.config';

const dir = mkdtempSync(path.join(os.tmpdir(), 'mlc-await-started-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Starts `sleep SECONDS` in the background as the server, then awaits it with READY. */
function awaitSleep(name: string, sleepSeconds: number, ready: string, timeoutSeconds: number) {
  const pidFile = path.join(dir, `${name}.pid`);
  const log = path.join(dir, `${name}.log`);
  writeFileSync(log, `${name} log line\n`);
  const script = [
    `source ${JSON.stringify(path.join(repoRoot, 'scripts/lib.sh'))}`,
    // Its own stdio, as the services start theirs: bash and its pipes must not wait for it.
    `sleep ${sleepSeconds} </dev/null >/dev/null 2>&1 & echo $! >${JSON.stringify(pidFile)}`,
    `MLC_TEST_START_TIMEOUT=${timeoutSeconds} await_started "${name}: the server" ${JSON.stringify(pidFile)} sleep MLC_TEST_START_TIMEOUT 99 ${JSON.stringify(log)} ${ready}`,
  ].join('\n');
  const started = Date.now();
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', timeout: 30_000 });
  const pid = existsSync(pidFile) ? readFileSync(pidFile, 'utf8').trim() : null;
  if (pid) spawnSync('kill', [pid]);
  return { status: r.status, stderr: r.stderr, seconds: (Date.now() - started) / 1000, pidFileKept: pid !== null };
}

describe('await_started (scripts/lib.sh)', () => {
  it('returns as soon as the readiness check passes', () => {
    const r = awaitSleep('ready', 30, 'true', 10);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.seconds).toBeLessThan(5);
  });

  it('fails at once, with the log, when the process exits while starting, and forgets its pid', () => {
    const r = awaitSleep('dies', 0.2, 'false', 20);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('✗ dies: the server exited during start-up (log: ');
    expect(r.stderr).toContain('dies log line');
    expect(r.pidFileKept).toBe(false);
    expect(r.seconds).toBeLessThan(10); // long before the 20 s timeout
  });

  it('fails after the timeout, with the log, when the process runs but never gets ready', () => {
    const r = awaitSleep('stuck', 30, 'false', 1);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('✗ stuck: the server: not ready after 1 s (log: ');
    expect(r.stderr).toContain('stuck log line');
    expect(r.stderr).toContain('allow more with MLC_TEST_START_TIMEOUT=SECONDS');
    expect(r.pidFileKept).toBe(true); // still running: the caller decides what to do with it
  });
});
