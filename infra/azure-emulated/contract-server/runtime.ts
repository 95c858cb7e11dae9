// A deployment brought up as Azure ML brings one up: the storage initializer copies the
// code asset and the model asset out of Blob (model files land under
// $AZUREML_MODEL_DIR/<last folder of the model's path>, as in Azure), then the real
// inference server runs the scoring script with the deployment's environment variables.
// A crash before ready is the caller's ResourceNotReady; its output stays in the logs.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { downloadFolder, resolveAssetUri } from './blob-assets';
import type { EmulatorContext } from './context';
import { startInferenceServer, type InferenceServer } from './inference-server';
import type { DeploymentRecord } from './state';

export interface RuntimeSpec {
  code: { uri: string; scoringScript: string };
  model?: { name: string; version: string; uri: string };
  environmentVariables: Record<string, string>;
  /** An injected fault: run a scoring script whose init() raises. */
  crash: boolean;
}

export interface DeploymentRuntime {
  server: InferenceServer;
  workDir: string;
  stop(): Promise<void>;
}

export class RuntimeStartError extends Error {
  override name = 'RuntimeStartError';
  constructor(
    readonly stage: 'StorageInitializer' | 'InferenceServer',
    message: string,
  ) {
    super(message);
  }
}

const CRASHING_SCRIPT = `# Written by the Azure ML emulator for an injected ResourceNotReady fault.
def init():
    raise RuntimeError("injected fault: the scoring container crashed in init()")

def run(raw_data):
    return raw_data
`;

export async function startRuntime(ctx: EmulatorContext, deployment: DeploymentRecord, spec: RuntimeSpec): Promise<DeploymentRuntime> {
  const safe = (s: string) => s.replace(/[^a-zA-Z0-9-]/g, '_');
  const workDir = await mkdtemp(join(tmpdir(), `mlc-aml-${safe(deployment.endpoint)}-${safe(deployment.name)}-`));
  const storage = deployment.logs.StorageInitializer;
  try {
    const datastoreContainer = (name: string) => ctx.datastores.get(name.toLowerCase())?.containerName;
    const codeDir = join(workDir, 'code');
    const modelRoot = spec.model ? join(workDir, 'azureml-models', spec.model.name, spec.model.version) : join(workDir, 'azureml-models', 'none');
    await mkdir(modelRoot, { recursive: true });
    try {
      storage.line(`Downloading code from ${spec.code.uri}`);
      await downloadFolder(ctx.blob.service, resolveAssetUri(spec.code.uri, ctx.blob.endpoint, datastoreContainer), codeDir, (l) => storage.line(l));
      if (spec.model) {
        storage.line(`Downloading model ${spec.model.name}:${spec.model.version} from ${spec.model.uri}`);
        const where = resolveAssetUri(spec.model.uri, ctx.blob.endpoint, datastoreContainer);
        await downloadFolder(ctx.blob.service, where, join(modelRoot, posix.basename(where.path) || 'model'), (l) => storage.line(l));
      }
    } catch (err) {
      storage.line(`Error: ${(err as Error).message}`);
      throw new RuntimeStartError('StorageInitializer', `the storage initializer could not fetch the deployment's assets: ${(err as Error).message}`);
    }
    storage.line('Storage initialization completed.');

    let entryScript = join(codeDir, ...spec.code.scoringScript.split('/'));
    if (!existsSync(entryScript)) {
      throw new RuntimeStartError('InferenceServer', `the scoring script ${spec.code.scoringScript} is not in the code asset ${spec.code.uri}`);
    }
    if (spec.crash) {
      entryScript = join(workDir, 'injected-fault', 'score.py');
      await mkdir(join(workDir, 'injected-fault'), { recursive: true });
      await writeFile(entryScript, CRASHING_SCRIPT);
    }
    const home = join(workDir, 'home');
    await mkdir(home, { recursive: true });
    const logs = deployment.logs.InferenceServer;
    logs.line(`Starting ${ctx.azmlinfsrv} for deployment ${deployment.name} of endpoint ${deployment.endpoint}`);
    let server: InferenceServer;
    try {
      server = await startInferenceServer({
        bin: ctx.azmlinfsrv,
        entryScript,
        modelDir: modelRoot,
        cwd: codeDir,
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          LANG: 'C.UTF-8',
          // Its own HOME: gunicorn puts a control socket there, one per server.
          HOME: home,
          TMPDIR: tmpdir(),
          PYTHONUNBUFFERED: '1',
          AZUREML_MODEL_DIR: modelRoot,
          AZUREML_ENTRY_SCRIPT: entryScript,
          ...spec.environmentVariables,
        },
        readyTimeoutMs: ctx.readyTimeoutMs,
        onOutput: (t) => logs.write(t),
      });
    } catch (err) {
      logs.line(`Error: ${(err as Error).message}`);
      throw new RuntimeStartError('InferenceServer', (err as Error).message);
    }
    void server.exited.then((how) => logs.line(`The inference server stopped (${how}).`));
    const runtime: DeploymentRuntime = {
      server,
      workDir,
      async stop() {
        await server.stop();
        ctx.runtimes.delete(runtime);
        await rm(workDir, { recursive: true, force: true });
      },
    };
    ctx.runtimes.add(runtime);
    if (ctx.stopping) {
      await runtime.stop();
      throw new RuntimeStartError('InferenceServer', 'the emulator is stopping');
    }
    return runtime;
  } catch (err) {
    await rm(workDir, { recursive: true, force: true });
    throw err;
  }
}
