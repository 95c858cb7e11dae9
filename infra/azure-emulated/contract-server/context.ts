// What every resource handler is given: the contract, the state, the operation manager,
// the faults, and the emulator's settings. One object, built once in index.ts.
import type { BlobServiceClient } from '@azure/storage-blob';
import type { Faults } from './faults';
import type { Operations } from './lro';
import type { DeploymentRuntime } from './runtime';
import type { SdkContract } from './sdk-contract';
import type { EmulatorState, Scope, SystemData } from './state';
import type { SelfSignedCert } from './tls';

export interface DatastoreRecord {
  name: string;
  containerName: string;
  isDefault: boolean;
  systemData: SystemData;
}

export interface EmulatorContext {
  contract: SdkContract;
  scope: Scope;
  state: EmulatorState;
  faults: Faults;
  operations: Operations;
  armEndpoint(): string;
  /** How long the next long-running operation takes (an armed slow fault wins). */
  operationMs(): number;
  blob: { endpoint: string; service: BlobServiceClient; accountName: string; accountKey: string };
  datastores: Map<string, DatastoreRecord>;
  cert: SelfSignedCert;
  scoringTls: boolean;
  azmlinfsrv: string;
  readyTimeoutMs: number;
  quotaCores: number;
  rand(): number;
  workspaceGuid: string;
  /** Every inference server running, so stop() can end them all. */
  runtimes: Set<DeploymentRuntime>;
  stopping: boolean;
}

export interface ArmRequest {
  /** The SDK operation, e.g. OnlineEndpoints.createOrUpdate. */
  operation: string;
  params: Record<string, string>;
  body: unknown;
  apiVersion: string;
}

export interface ArmResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type Handler = (ctx: EmulatorContext, req: ArmRequest) => Promise<ArmResponse> | ArmResponse;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
