// `mlc doctor`: is everything this configuration names there and usable? One line per service,
// each failure with its fix (cli/doctor-checks.ts). Exit 1 when a check failed; warnings (the
// Web UI's codec server, an endpoint not started yet) do not fail it.
import { formatChecks } from '../domain/checks';
import { loadConfigAndSources } from '../temporal.config';
import { CliError } from './cli-error';
import { DEFAULT_DEADLINE_MS, runDoctor } from './doctor-checks';

export async function doctorCommand(flags: { json?: boolean; timeout?: string }): Promise<void> {
  const seconds = flags.timeout === undefined ? DEFAULT_DEADLINE_MS / 1000 : Number(flags.timeout);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new CliError(`--timeout ${flags.timeout}: a number of seconds, e.g. 45`, 2);
  const { config, file } = loadConfigAndSources();
  const results = await runDoctor(config, { deadlineMs: seconds * 1000 });
  const ok = results.every((r) => r.status !== 'fail');
  const title = `mlc doctor: the configuration from ${file ?? 'the defaults and the environment'} (mlc config show)`;
  const text = flags.json ? JSON.stringify({ ok, results }, null, 2) : formatChecks(title, results);
  await new Promise<void>((resolve) => process.stdout.write(`${text}\n`, () => resolve()));
  // A check that hung (a dead NFS mount) still holds its call open; what it found is printed.
  process.exit(ok ? 0 : 1);
}
