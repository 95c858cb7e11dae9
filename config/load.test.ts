import { mkdtempSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfigWithSources } from './load';
import { renderConfig } from './show';

const repo = '/repo';
function withFile(yaml: string): NodeJS.ProcessEnv {
  const dir = mkdtempSync(path.join(tmpdir(), 'mlc-config-'));
  const file = path.join(dir, 'mlc.yaml');
  writeFileSync(file, yaml);
  return { MLC_CONFIG: file, USER: 'me' };
}

const twoClustersAndAWorkspace = `
clusters:
  hpc:
    executor: slurm
    host: login.hpc.example.org
    username: mlops
    privateKeyPath: keys/id_ed25519
    knownHostsPath: keys/known_hosts
    codeDir: /shared/mlc
    artifactsRoot: /mnt/truenas/mlc
    python: /shared/venv/bin/python
    pollIntervalMs: 5000
  gpu2:
    executor: slurm
    host: 10.0.0.5
    port: 2200
    username: mlops
    knownHostsPath: /etc/mlc/known_hosts
    codeDir: /shared/mlc
    artifactsRoot: /mnt/truenas/mlc
    python: /shared/venv/bin/python
    pollIntervalMs: 5000
workspaces:
  prod:
    subscriptionId: 00000000-0000-0000-0000-000000000000
    resourceGroup: ml-prod
    workspace: ml-prod-ws
`;

describe('loadConfigWithSources', () => {
  it('embedded defaults: the local cluster, the local process cluster, no workspaces', () => {
    const { config, sources, file } = loadConfigWithSources(repo, { USER: 'me' });
    expect(file).toBeNull();
    expect(Object.keys(config.clusters).sort()).toEqual(['local', 'local-process']);
    expect(config.clusters['local-process']).not.toHaveProperty('host');
    expect(config.workspaces).toEqual({});
    expect(sources.get('clusters.local.host')).toBe('default');
  });

  it('a file with two SLURM clusters and a workspace validates; paths resolve against the file, defaults fill in', () => {
    const env = withFile(twoClustersAndAWorkspace);
    const { config, sources } = loadConfigWithSources(repo, env);
    expect(Object.keys(config.clusters).sort()).toEqual(['gpu2', 'hpc', 'local', 'local-process']);
    const hpc = config.clusters.hpc!;
    expect(hpc).toMatchObject({
      executor: 'slurm',
      host: 'login.hpc.example.org',
      port: 22,
      privateKeyPath: path.join(path.dirname(env.MLC_CONFIG!), 'keys/id_ed25519'),
    });
    expect(config.workspaces.prod).toMatchObject({
      datastore: 'workspaceblobstore',
      armEndpoint: 'https://management.azure.com',
      credential: { kind: 'default' },
    });
    expect(sources.get('clusters.hpc.host')).toBe(`file ${env.MLC_CONFIG}`);
  });

  it('environment variables override the file and say so', () => {
    const env = { ...withFile('temporal:\n  address: temporal.prod:7233\n'), TEMPORAL_ADDRESS: '10.1.1.1:7233', DATABASE_URL: 'postgres://mlc:hunter2@db/mlc' };
    const loaded = loadConfigWithSources(repo, env);
    expect(loaded.config.temporal.address).toBe('10.1.1.1:7233');
    expect(loaded.sources.get('temporal.address')).toBe('env TEMPORAL_ADDRESS');
    const shown = renderConfig(loaded);
    expect(shown).toContain('temporal.address = "10.1.1.1:7233"    # env TEMPORAL_ADDRESS');
    expect(shown).not.toContain('hunter2');
    expect(shown).toContain('postgres://mlc:****@db/mlc');
  });

  it('the endpoint scores in one thread per core unless endpoint.scoring says event-loop; anything else is refused', () => {
    expect(loadConfigWithSources(repo, {}).config.endpoint).toMatchObject({ scoring: 'threads', scoringThreads: os.availableParallelism() });
    const fromFile = loadConfigWithSources(repo, withFile('endpoint:\n  scoring: event-loop\n  scoringThreads: 3\n')).config.endpoint;
    expect(fromFile).toMatchObject({ scoring: 'event-loop', scoringThreads: 3 });
    const fromEnv = loadConfigWithSources(repo, { MLC_ENDPOINT_SCORING: 'event-loop', MLC_ENDPOINT_SCORING_THREADS: '4' });
    expect(fromEnv.config.endpoint).toMatchObject({ scoring: 'event-loop', scoringThreads: 4 });
    expect(fromEnv.sources.get('endpoint.scoring')).toBe('env MLC_ENDPOINT_SCORING');
    expect(() => loadConfigWithSources(repo, { MLC_ENDPOINT_SCORING: 'gpu' })).toThrow(
      /endpoint\.scoring: .*"threads"\|"event-loop".*env MLC_ENDPOINT_SCORING/,
    );
    expect(() => loadConfigWithSources(repo, { MLC_ENDPOINT_SCORING_THREADS: '0' })).toThrow(/endpoint\.scoringThreads/);
  });

  it('the endpoint logs predictions before answering unless endpoint.predictionLog says after-answer', () => {
    expect(loadConfigWithSources(repo, {}).config.endpoint.predictionLog).toBe('before-answer');
    expect(loadConfigWithSources(repo, withFile('endpoint:\n  predictionLog: after-answer\n')).config.endpoint.predictionLog).toBe('after-answer');
    const fromEnv = loadConfigWithSources(repo, { MLC_ENDPOINT_PREDICTION_LOG: 'after-answer' });
    expect(fromEnv.sources.get('endpoint.predictionLog')).toBe('env MLC_ENDPOINT_PREDICTION_LOG');
    expect(() => loadConfigWithSources(repo, { MLC_ENDPOINT_PREDICTION_LOG: 'never' })).toThrow(
      /endpoint\.predictionLog: .*"before-answer"\|"after-answer".*env MLC_ENDPOINT_PREDICTION_LOG/,
    );
  });

  it('worker metrics: none by default; a host:port from the file or MLC_WORKER_METRICS_ADDRESS; anything else refused', () => {
    expect(loadConfigWithSources(repo, {}).config.workerMetricsAddress).toBeUndefined();
    expect(loadConfigWithSources(repo, withFile('workerMetricsAddress: 0.0.0.0:9464\n')).config.workerMetricsAddress).toBe('0.0.0.0:9464');
    const fromEnv = loadConfigWithSources(repo, { MLC_WORKER_METRICS_ADDRESS: '127.0.0.1:9464' });
    expect([fromEnv.config.workerMetricsAddress, fromEnv.sources.get('workerMetricsAddress')]).toEqual(['127.0.0.1:9464', 'env MLC_WORKER_METRICS_ADDRESS']);
    for (const bad of ['9464', 'http://127.0.0.1:9464', '127.0.0.1:metrics'])
      expect(() => loadConfigWithSources(repo, { MLC_WORKER_METRICS_ADDRESS: bad })).toThrow(
        /workerMetricsAddress: host:port, such as 127\.0\.0\.1:9464.*env MLC_WORKER_METRICS_ADDRESS/,
      );
  });

  it('a bad file names the field, the problem and the file', () => {
    const env = withFile(
      'clusters:\n  hpc:\n    executor: slurm\n    host: x\n    username: u\n    codeDir: /c\n    artifactsRoot: /a\n    python: /p\n    pollIntervalMs: 1000\n    passwd: oops\n',
    );
    const err = (() => {
      try {
        loadConfigWithSources(repo, env);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    const message = (err as Error).message;
    expect(message).toMatch(/clusters\.hpc\.knownHostsPath: .*\(from file .*mlc\.yaml\)/);
    expect(message).toMatch(/clusters\.hpc: .*passwd/);
  });

  it('a local-process cluster has no SSH fields; an unknown executor is refused', () => {
    expect(() =>
      loadConfigWithSources(
        repo,
        withFile('clusters:\n  box:\n    executor: local\n    host: x\n    codeDir: /c\n    artifactsRoot: /a\n    python: /p\n    pollIntervalMs: 1000\n'),
      ),
    ).toThrow(/clusters\.box.*host/);
    expect(() => loadConfigWithSources(repo, withFile('clusters:\n  box:\n    executor: k8s\n'))).toThrow(/clusters\.box\.executor/);
  });

  it('an unreadable or non-YAML file is a clear error', () => {
    expect(() => loadConfigWithSources(repo, { MLC_CONFIG: '/nonexistent/mlc.yaml' })).toThrow(
      /MLC_CONFIG names \/nonexistent\/mlc.yaml, which cannot be read \(ENOENT\)/,
    );
    expect(() => loadConfigWithSources(repo, withFile('clusters: [1, 2'))).toThrow(/not valid YAML/);
  });

  it("data roots: the repository's data/ and examples/ by default, a file's relative to it, MLC_DATA_ROOTS colon-separated", () => {
    const defaults = loadConfigWithSources(repo, { USER: 'me' });
    expect(defaults.config.dataRoots).toEqual(['/repo/data', '/repo/examples']);
    const env = withFile('dataRoots: [datasets, /srv/corpora]\n');
    const fromFile = loadConfigWithSources(repo, env);
    expect(fromFile.config.dataRoots).toEqual([path.join(path.dirname(env.MLC_CONFIG!), 'datasets'), '/srv/corpora']);
    expect(fromFile.sources.get('dataRoots')).toBe(`file ${env.MLC_CONFIG}`);
    const fromEnv = loadConfigWithSources(repo, { ...env, MLC_DATA_ROOTS: '/mnt/a::/mnt/b' });
    expect(fromEnv.config.dataRoots).toEqual(['/mnt/a', '/mnt/b']);
    expect(renderConfig(fromEnv)).toContain('dataRoots = ["/mnt/a","/mnt/b"]    # env MLC_DATA_ROOTS');
    expect(() => loadConfigWithSources(repo, { USER: 'me', MLC_DATA_ROOTS: ':' })).toThrow(/dataRoots: .*at least one folder.*\(from env MLC_DATA_ROOTS\)/);
  });

  it('the payload codec: key file and server token under paths.secrets wherever that is set; only names of secrets, never values', () => {
    const defaults = loadConfigWithSources(repo, { USER: 'me' });
    expect(defaults.config.temporal.codec).toEqual({
      keyFiles: ['/repo/.data/secrets/codec-keys'],
      keysEnv: 'MLC_CODEC_KEYS',
      server: { host: '127.0.0.1', port: 8766, tokenFile: '/repo/.data/secrets/codec-server.token', tokenEnv: 'MLC_CODEC_SERVER_TOKEN' },
    });
    expect(defaults.sources.get('temporal.codec.keyFiles')).toBe('default (under paths.secrets)');

    const env = withFile('paths:\n  secrets: /etc/mlc/secrets\ntemporal:\n  codec:\n    server: { tokenFile: keys/codec.token }\n');
    const fromFile = loadConfigWithSources(repo, env);
    expect(fromFile.config.temporal.codec.keyFiles).toEqual(['/etc/mlc/secrets/codec-keys']);
    expect(fromFile.config.temporal.codec.server.tokenFile).toBe(path.join(path.dirname(env.MLC_CONFIG!), 'keys/codec.token'));
    expect(fromFile.sources.get('temporal.codec.server.tokenFile')).toBe(`file ${env.MLC_CONFIG}`);

    const fromEnv = loadConfigWithSources(repo, { ...env, MLC_CODEC_KEY_FILES: '/run/keys/new:/run/keys/old', MLC_CODEC_SERVER_PORT: '9000' });
    expect(fromEnv.config.temporal.codec.keyFiles).toEqual(['/run/keys/new', '/run/keys/old']);
    expect(fromEnv.config.temporal.codec.server.port).toBe(9000);
    expect(renderConfig(fromEnv)).toContain('temporal.codec.keyFiles = ["/run/keys/new","/run/keys/old"]    # env MLC_CODEC_KEY_FILES');
    expect(() => loadConfigWithSources(repo, withFile('temporal:\n  codec:\n    keysEnv: "k1:abc"\n'))).toThrow(
      /temporal\.codec\.keysEnv: the name of an environment variable/,
    );
  });

  it('an azblob:// artifact root stays a URL, and clusters keep their filesystem root', () => {
    const { config } = loadConfigWithSources(repo, { USER: 'me', MLC_ARTIFACTS_ROOT: 'azblob://acct/mlc/artifacts' });
    expect(config.paths.artifacts).toBe('azblob://acct/mlc/artifacts');
    expect(config.clusters.local!.artifactsRoot).toBe('/repo/.data/artifacts');
  });
});
