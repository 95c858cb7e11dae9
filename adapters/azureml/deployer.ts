// The Azure ML side of a deployment, one method per step the lifecycle takes: upload a
// package to the workspace's datastore, register code / environment / model versions,
// create the endpoint and a deployment per version, read and set traffic (always a full
// PUT of the endpoint: Azure's PATCH body carries only tags and identity), score through
// the endpoint, read container logs, delete old deployments. Every Azure failure leaves
// here as one of the named errors in errors.ts.
import type { ManagedOnlineDeployment, OnlineEndpoint } from '@azure/arm-machinelearning';
import type { ContainerClient } from '@azure/storage-blob';
import { uploadWriteOnce, type WriteOnceProgress } from '../artifacts/write-once';
import type { PackageFile } from './package';
import type { WorkspaceClients } from './client';
import { AzureConfigError, AzureDeploymentCrashedError, AzureMlError, AzureOperationFailedError, AzureQuotaError, fromAzure } from './errors';
import { runLro, type LroOptions } from './lro';
import { sameTraffic } from '../../domain/rollout';
import { postJson } from './https';
import { readRequestLog, streamRequestLog } from './request-log';

/** Azure ML's CPU inference base image; score.py's conda.yaml goes on top. */
export const INFERENCE_BASE_IMAGE = 'mcr.microsoft.com/azureml/minimal-ubuntu22.04-py311-cpu-inference:latest';

export interface RegisteredAssets {
  modelId: string;
  codeId: string;
  environmentId: string;
}

export interface DeploymentRequest {
  endpoint: string;
  deployment: string;
  assets: RegisteredAssets;
  instanceType: string;
  instanceCount: number;
  environmentVariables: Record<string, string>;
  tags: Record<string, string>;
}

export interface ScoreResult {
  ok: boolean;
  status: number;
  latencyMs: number;
  deployment: string | null;
  body: unknown;
  error?: string;
}

export class AzureMlDeployer {
  private readonly rg: string;
  private readonly ws: string;

  constructor(readonly clients: WorkspaceClients) {
    this.rg = clients.config.resourceGroup;
    this.ws = clients.config.workspace;
  }

  /** Write-once upload of a folder to the datastore; returns its URL (what asset URIs name). */
  async upload(prefix: string, files: PackageFile[], onProgress?: (progress: WriteOnceProgress) => void): Promise<string> {
    let container: ContainerClient;
    try {
      container = await this.clients.datastore();
    } catch (err) {
      throw fromAzure(`opening datastore ${this.clients.config.datastore}`, err);
    }
    await uploadWriteOnce(
      container,
      prefix,
      files.map((f) => ({ name: f.name, bytes: f.bytes })),
      onProgress,
    );
    return `${container.url}/${prefix}`;
  }

  async registerAssets(input: {
    model: string;
    version: number;
    packageSha256: string;
    codeUri: string;
    modelUri: string;
    condaFile: string;
    condaSha256: string;
    tags: Record<string, string>;
  }): Promise<RegisteredAssets> {
    const { arm } = this.clients;
    const codeName = `mlc-${input.model}-score`;
    const codeVersion = input.packageSha256.slice(0, 16);
    const envName = `mlc-${input.model}-onnx`;
    const envVersion = input.condaSha256.slice(0, 16);
    const modelVersion = String(input.version);
    await this.call('registering the scoring code', () =>
      arm.codeVersions.createOrUpdate(this.rg, this.ws, codeName, codeVersion, {
        properties: { codeUri: input.codeUri, description: `score.py for ${input.model}`, tags: input.tags },
      }),
    );
    await this.call('registering the environment', () =>
      arm.environmentVersions.createOrUpdate(this.rg, this.ws, envName, envVersion, {
        properties: {
          image: INFERENCE_BASE_IMAGE,
          condaFile: input.condaFile,
          osType: 'Linux',
          description: 'onnxruntime + tokenizers for mlc score.py',
          tags: input.tags,
        },
      }),
    );
    const existing = await this.arm404(() => arm.modelVersions.get(this.rg, this.ws, input.model, modelVersion));
    if (existing && existing.properties.tags?.sha256 !== input.tags.sha256) {
      throw new AzureConfigError(
        `model ${input.model} version ${modelVersion} already exists in workspace ${this.ws} with sha256 ${existing.properties.tags?.sha256 ?? '(none)'}, not the audited ${input.tags.sha256}. Azure ML model versions are immutable: archive that version in the workspace, or point this model at another workspace.`,
      );
    }
    if (!existing) {
      await this.call('registering the model', () =>
        arm.modelVersions.createOrUpdate(this.rg, this.ws, input.model, modelVersion, {
          properties: { modelUri: input.modelUri, modelType: 'custom_model', description: `${input.model} v${input.version}, audited`, tags: input.tags },
        }),
      );
    }
    return {
      codeId: this.clients.assetId(`codes/${codeName}/versions/${codeVersion}`),
      environmentId: this.clients.assetId(`environments/${envName}/versions/${envVersion}`),
      modelId: this.clients.assetId(`models/${input.model}/versions/${modelVersion}`),
    };
  }

  async getEndpoint(endpoint: string): Promise<OnlineEndpoint | null> {
    return this.arm404(() => this.clients.arm.onlineEndpoints.get(this.rg, this.ws, endpoint));
  }

  /** The endpoint, created (key auth, no traffic) when missing. */
  async ensureEndpoint(endpoint: string, tags: Record<string, string>, lro: LroOptions = {}): Promise<OnlineEndpoint> {
    const existing = lro.resumeFrom ? null : await this.getEndpoint(endpoint);
    if (existing) return existing;
    return runLro(
      `creating endpoint ${endpoint}`,
      (o) =>
        this.clients.arm.onlineEndpoints.beginCreateOrUpdate(
          this.rg,
          this.ws,
          endpoint,
          {
            location: this.clients.config.location,
            identity: { type: 'SystemAssigned' },
            tags,
            properties: { authMode: 'Key', description: 'managed by mlc', traffic: {} },
          },
          o,
        ),
      lro,
    );
  }

  async getDeployment(endpoint: string, deployment: string) {
    return this.arm404(() => this.clients.arm.onlineDeployments.get(this.rg, this.ws, endpoint, deployment));
  }

  async listDeployments(endpoint: string): Promise<string[]> {
    const names: string[] = [];
    try {
      for await (const d of this.clients.arm.onlineDeployments.list(this.rg, this.ws, endpoint)) if (d.name) names.push(d.name);
    } catch (err) {
      throw fromAzure(`listing deployments of ${endpoint}`, err);
    }
    return names;
  }

  /** Creates (or finishes creating) a deployment at 0% traffic; a failed one says why. */
  async createDeployment(req: DeploymentRequest, lro: LroOptions = {}): Promise<void> {
    const properties: ManagedOnlineDeployment = {
      endpointComputeType: 'Managed',
      model: req.assets.modelId,
      codeConfiguration: { codeId: req.assets.codeId, scoringScript: 'score.py' },
      environmentId: req.assets.environmentId,
      environmentVariables: req.environmentVariables,
      instanceType: req.instanceType,
      scaleSettings: { scaleType: 'Default' },
      requestSettings: { maxConcurrentRequestsPerInstance: 1, requestTimeout: 'PT30S' },
      description: `managed by mlc; ${req.tags.model ?? ''} v${req.tags.version ?? ''}`,
    };
    try {
      await runLro(
        `creating deployment ${req.deployment} on ${req.endpoint}`,
        (o) =>
          this.clients.arm.onlineDeployments.beginCreateOrUpdate(
            this.rg,
            this.ws,
            req.endpoint,
            req.deployment,
            {
              location: this.clients.config.location,
              sku: { name: 'Default', capacity: req.instanceCount },
              tags: req.tags,
              properties,
            },
            o,
          ),
        lro,
      );
    } catch (err) {
      throw await this.explainDeploymentFailure(req, err);
    }
  }

  /**
   * Environment of a deployment's score.py: who it is, and where it appends its request log
   * (the datastore account; in Azure, written with the endpoint's managed identity).
   */
  async requestLogSettings(model: string, version: number, deployment: string): Promise<Record<string, string>> {
    const { requestLog, blobConnectionStringEnv } = this.clients.config;
    const container = await this.clients.container(requestLog.container);
    const connection = blobConnectionStringEnv ? process.env[blobConnectionStringEnv] : undefined;
    return {
      MLC_MODEL_NAME: model,
      MLC_MODEL_VERSION: String(version),
      MLC_DEPLOYMENT_NAME: deployment,
      MLC_REQUEST_LOG_URL: `${container.url}/${requestLog.prefix}`,
      // Only for an emulator, whose account key is public; real workspaces use the identity.
      ...(connection && { MLC_REQUEST_LOG_CONNECTION_STRING: connection }),
    };
  }

  /** Predictions score.py logged for a model since a time, from the request log in Blob. */
  async requestLog(model: string, since: Date) {
    const { requestLog } = this.clients.config;
    return readRequestLog(await this.clients.container(requestLog.container), requestLog.prefix, model, since);
  }

  /** The same, streamed in log order without holding it: what a monitoring window folds. */
  async *requestLogStream(model: string, since: Date) {
    const { requestLog } = this.clients.config;
    yield* streamRequestLog(await this.clients.container(requestLog.container), requestLog.prefix, model, since);
  }

  /** Current traffic, as Azure reports it. */
  async traffic(endpoint: string): Promise<Record<string, number>> {
    const e = await this.getEndpoint(endpoint);
    if (!e) throw new AzureConfigError(`endpoint ${endpoint} does not exist in workspace ${this.ws}`);
    return { ...(e.properties.traffic ?? {}) };
  }

  /**
   * Sets traffic with a full PUT of the endpoint (everything else as it is), then waits until
   * a GET shows it: Azure applies traffic asynchronously, and a smoke test run before that
   * would judge the old split.
   */
  async setTraffic(endpoint: string, traffic: Record<string, number>, lro: LroOptions & { visibleWithinMs?: number } = {}): Promise<void> {
    const current = await this.getEndpoint(endpoint);
    if (!current) throw new AzureConfigError(`endpoint ${endpoint} does not exist in workspace ${this.ws}`);
    const body: OnlineEndpoint = {
      location: current.location,
      tags: current.tags,
      ...(current.identity && {
        identity: {
          type: current.identity.type,
          ...(current.identity.userAssignedIdentities && { userAssignedIdentities: current.identity.userAssignedIdentities }),
        },
      }),
      ...(current.kind && { kind: current.kind }),
      properties: {
        authMode: current.properties.authMode,
        description: current.properties.description,
        ...(current.properties.properties && { properties: current.properties.properties }),
        ...(current.properties.publicNetworkAccess && { publicNetworkAccess: current.properties.publicNetworkAccess }),
        traffic,
      },
    };
    await runLro(
      `setting traffic on ${endpoint} to ${JSON.stringify(traffic)}`,
      (o) => this.clients.arm.onlineEndpoints.beginCreateOrUpdate(this.rg, this.ws, endpoint, body, o),
      lro,
    );
    const deadline = Date.now() + (lro.visibleWithinMs ?? 120_000);
    for (;;) {
      const seen = await this.traffic(endpoint);
      if (sameTraffic(seen, traffic)) return;
      if (Date.now() > deadline)
        throw new AzureMlError(
          `endpoint ${endpoint} still reports traffic ${JSON.stringify(seen)} ${Math.round((lro.visibleWithinMs ?? 120_000) / 1000)}s after it accepted ${JSON.stringify(traffic)}; retrying`,
        );
      lro.onState?.(`waiting for traffic ${JSON.stringify(traffic)} to show (now ${JSON.stringify(seen)})`);
      await new Promise((r) => setTimeout(r, lro.pollIntervalMs ?? 2000));
    }
  }

  async deleteDeployment(endpoint: string, deployment: string, lro: LroOptions = {}): Promise<void> {
    await runLro(
      `deleting deployment ${deployment} of ${endpoint}`,
      (o) => this.clients.arm.onlineDeployments.beginDelete(this.rg, this.ws, endpoint, deployment, o),
      lro,
    ).catch((err) => {
      if (err instanceof AzureOperationFailedError && err.code === 'NotFound') return;
      throw err;
    });
  }

  async logs(endpoint: string, deployment: string, tail = 40): Promise<string> {
    try {
      return (
        (await this.clients.arm.onlineDeployments.getLogs(this.rg, this.ws, endpoint, deployment, { containerType: 'InferenceServer', tail })).content ?? ''
      );
    } catch (err) {
      return `(logs unavailable: ${(err as Error).message})`;
    }
  }

  /**
   * One scoring request through the endpoint; `deployment` pins it to one deployment. A
   * smoke request is logged by score.py as such, and monitoring leaves it out.
   */
  async score(endpoint: string, texts: string[], deployment?: string, options: { smoke?: boolean } = {}): Promise<ScoreResult> {
    const e = await this.getEndpoint(endpoint);
    if (!e?.properties.scoringUri) throw new AzureConfigError(`endpoint ${endpoint} has no scoring URI yet`);
    let key: string | undefined;
    try {
      key = (await this.clients.arm.onlineEndpoints.listKeys(this.rg, this.ws, endpoint)).primaryKey;
    } catch (err) {
      throw fromAzure(`reading the keys of ${endpoint}`, err);
    }
    const headers: Record<string, string> = { authorization: `Bearer ${key}` };
    if (deployment) headers['azureml-model-deployment'] = deployment;
    const started = performance.now();
    try {
      const res = await postJson(e.properties.scoringUri, { texts, ...(options.smoke && { smoke: true }) }, headers, this.clients.ca);
      const latencyMs = performance.now() - started;
      const ok =
        res.status === 200 &&
        Array.isArray((res.body as { predictions?: unknown[] })?.predictions) &&
        (res.body as { predictions: unknown[] }).predictions.length === texts.length;
      return {
        ok,
        status: res.status,
        latencyMs,
        deployment: res.headers['azureml-model-deployment'] ?? null,
        body: res.body,
        ...(!ok && { error: `HTTP ${res.status}: ${JSON.stringify(res.body).slice(0, 300)}` }),
      };
    } catch (err) {
      return { ok: false, status: 0, latencyMs: performance.now() - started, deployment: null, body: null, error: (err as Error).message };
    }
  }

  private async explainDeploymentFailure(req: DeploymentRequest, err: unknown): Promise<unknown> {
    const text = `${(err as { code?: string })?.code ?? ''} ${(err as Error)?.message ?? err}`;
    if (/OutOfQuota/i.test(text)) return new AzureQuotaError(req.instanceType, req.instanceCount, detailOf(text), { cause: err });
    if (/ResourceNotReady/i.test(text))
      return new AzureDeploymentCrashedError(req.deployment, detailOf(text), await this.logs(req.endpoint, req.deployment), { cause: err });
    if (err instanceof AzureMlError) return err;
    return new AzureOperationFailedError(`creating deployment ${req.deployment}`, 'Failed', text, { cause: err });
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw fromAzure(what, err);
    }
  }

  private async arm404<T>(fn: () => Promise<T>): Promise<T | null> {
    try {
      return await fn();
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return null;
      throw fromAzure('reading from Azure ML', err);
    }
  }
}

function detailOf(text: string): string {
  return text.replace(/\s+/g, ' ').slice(0, 600);
}
