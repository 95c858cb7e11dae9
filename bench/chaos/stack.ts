// Everything the chaos bench runs and may break, all its own: a Temporal dev server, a
// PostgreSQL, an sshd in front of the shared SLURM cluster (munge, slurmctld and slurmd are
// shared and never restarted), and the worker roles as processes configured by an MLC_CONFIG
// file written here. The shared services other tests use are never touched.
import { Client, Connection } from '@temporalio/client';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { dataConverterFor } from '../../adapters/temporal-codec/data-converter';
import { newKeyEntry } from '../../adapters/temporal-codec/keys';
import { freePort } from '../../test/e2e/process-helpers';
import { loadConfig, repoRoot, type MlcConfig } from '../../temporal.config';
import { PrivatePostgres } from './postgres-server';
import { PrivateSshd } from './sshd-server';
import { PrivateTemporal } from './temporal-server';
import { WorkerFleet } from './workers';

/** The cluster name specs use to reach SLURM through the private sshd. */
export const CHAOS_CLUSTER = 'chaos';

export interface ChaosStack {
  dir: string;
  /** Where lifecycles' input data goes (a data root of the config). */
  inputDir: string;
  temporal: PrivateTemporal;
  postgres: PrivatePostgres;
  sshd: PrivateSshd;
  workers: WorkerFleet;
  config: MlcConfig;
  /** A client with the product's payload codec; reconnects by itself after a server restart. */
  client: Client;
  close(options?: { keepDir?: boolean }): Promise<void>;
}

/** Environment variables config/load.ts reads as overrides: none may leak in from the caller's. */
const overridden = /^(MLC_|TEMPORAL_|DATABASE_URL$)/;

export async function startStack(log: (line: string) => void = () => undefined): Promise<ChaosStack> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mlc-chaos-'));
  // The postgres account must reach its folder below this one.
  chmodSync(dir, 0o711);
  const inputDir = path.join(dir, 'input');
  const artifacts = path.join(dir, 'artifacts');
  for (const d of [inputDir, artifacts, path.join(dir, 'temporal'), path.join(dir, 'sshd')]) mkdirSync(d, { recursive: true });
  // Each port is picked just before its server binds it: the dev server takes random free
  // ports of its own as it starts, which a port picked earlier could turn out to be.
  const [temporalPort, pgPort] = await distinctFreePorts(2);
  const temporal = new PrivateTemporal(path.join(dir, 'temporal'), temporalPort!);
  const postgres = new PrivatePostgres(path.join(dir, 'postgres'), pgPort!);
  let sshd: PrivateSshd | undefined;
  const started: { stop(): Promise<void> }[] = [];
  let workers: WorkerFleet | undefined;
  let connection: Connection | undefined;
  const close = async ({ keepDir = false } = {}) => {
    await workers?.stop();
    await connection?.close().catch(() => undefined);
    for (const s of started.reverse()) await s.stop().catch(() => undefined);
    if (!keepDir) rmSync(dir, { recursive: true, force: true });
  };
  try {
    const t0 = Date.now();
    await Promise.all([temporal.start().then(() => started.push(temporal)), postgres.start().then(() => started.push(postgres))]);
    const sshPort = await freePort();
    sshd = new PrivateSshd(path.join(dir, 'sshd'), sshPort);
    await sshd.start();
    started.push(sshd);
    log(`services up in ${s(Date.now() - t0)}: Temporal ${temporal.address}, PostgreSQL :${pgPort}, sshd :${sshPort} (folder ${dir})`);

    const endpointPort = await freePort();
    const configFile = path.join(dir, 'mlc.yaml');
    writeFileSync(
      configFile,
      stringify({
        temporal: { address: temporal.address, namespace: 'default', uiUrl: `http://127.0.0.1:${temporalPort! + 1000}` },
        paths: { data: path.join(dir, 'data'), artifacts, logs: path.join(dir, 'logs'), secrets: path.join(dir, 'secrets') },
        dataRoots: [inputDir],
        databaseUrl: postgres.url,
        endpoint: { host: '127.0.0.1', port: endpointPort },
        clusters: {
          [CHAOS_CLUSTER]: {
            executor: 'slurm',
            host: '127.0.0.1',
            port: sshPort,
            username: sshd.username,
            privateKeyPath: sshd.privateKeyPath,
            knownHostsPath: sshd.knownHostsPath,
            codeDir: repoRoot,
            artifactsRoot: artifacts,
            python: path.join(repoRoot, '.venv/bin/python'),
            pollIntervalMs: 1000,
          },
        },
      }),
    );
    const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !overridden.test(k)));
    env.MLC_CONFIG = configFile;
    env.MLC_CODEC_KEYS = newKeyEntry(); // one key for every process of this run, as production injects it
    const config = loadConfig(env);

    connection = await Connection.connect({ address: temporal.address });
    const client = new Client({ connection, namespace: 'default', dataConverter: await dataConverterFor(config, env) });

    const t1 = Date.now();
    workers = new WorkerFleet(env, path.join(dir, 'workers.log'));
    await workers.startAll();
    log(
      `workers up in ${s(Date.now() - t1)}: control, scoring, endpoint (:${endpointPort}), registry PostgreSQL, cluster "${CHAOS_CLUSTER}" over sshd :${sshPort}`,
    );
    return { dir, inputDir, temporal, postgres, sshd, workers, config, client, close };
  } catch (err) {
    await close({ keepDir: true });
    throw new Error(`the chaos stack did not start (its files are kept in ${dir}): ${(err as Error).message}`, { cause: err });
  }
}

async function distinctFreePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

export const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
