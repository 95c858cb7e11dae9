// What the emulator remembers, in memory, and the ARM ids it hands out. Names are
// case-insensitive in Azure, so maps are keyed by the lower-cased name and records keep the
// spelling they were created with. Tests read this through the emulator's `state`.
import type { FrontDoor } from './front-door';
import type { DeploymentRuntime } from './runtime';

export interface Scope {
  subscriptionId: string;
  resourceGroup: string;
  workspace: string;
  location: string;
}

export const PROVIDER = 'Microsoft.MachineLearningServices';

export function workspaceId(s: Scope): string {
  return `/subscriptions/${s.subscriptionId}/resourceGroups/${s.resourceGroup}/providers/${PROVIDER}/workspaces/${s.workspace}`;
}

/** Lines of a container's output, of which getLogs returns the tail. */
export class LogTail {
  private lines: string[] = [];
  private partial = '';
  constructor(private readonly keep = 5000) {}
  write(text: string): void {
    const parts = (this.partial + text).split('\n');
    this.partial = parts.pop()!;
    this.lines.push(...parts);
    if (this.lines.length > this.keep) this.lines.splice(0, this.lines.length - this.keep);
  }
  line(text: string): void {
    this.write(`${new Date().toISOString()} ${text}\n`);
  }
  tail(n?: number): string {
    const all = this.partial ? [...this.lines, this.partial] : this.lines;
    return (n === undefined ? all : all.slice(-n)).join('\n');
  }
}

export interface SystemData {
  createdAt: string;
  createdBy: string;
  createdByType: 'User';
  lastModifiedAt: string;
  lastModifiedBy: string;
  lastModifiedByType: 'User';
}

export function systemData(previous?: SystemData): SystemData {
  const now = new Date().toISOString();
  return {
    createdAt: previous?.createdAt ?? now,
    createdBy: 'mlc-emulator@example.invalid',
    createdByType: 'User',
    lastModifiedAt: now,
    lastModifiedBy: 'mlc-emulator@example.invalid',
    lastModifiedByType: 'User',
  };
}

export type AssetKind = 'codes' | 'environments' | 'models';

export interface AssetVersion {
  kind: AssetKind;
  name: string;
  version: string;
  properties: Record<string, unknown>;
  systemData: SystemData;
}

export interface AssetContainer {
  kind: AssetKind;
  name: string;
  properties: Record<string, unknown>;
  versions: Map<string, AssetVersion>;
  systemData: SystemData;
}

export type Traffic = Record<string, number>;

export interface EndpointRecord {
  name: string;
  location: string;
  tags: Record<string, string>;
  identity?: Record<string, unknown>;
  kind?: string;
  /** authMode, description, properties, publicNetworkAccess, compute as last PUT. */
  properties: Record<string, unknown>;
  /** The traffic the gateway routes by. */
  traffic: Traffic;
  /** What GET shows while a traffic change is still propagating (an injected fault). */
  staleTraffic?: { traffic: Traffic; until: number };
  keys: { primaryKey: string; secondaryKey: string };
  provisioningState: 'Creating' | 'Updating' | 'Deleting' | 'Succeeded' | 'Failed';
  frontDoor: FrontDoor;
  systemData: SystemData;
}

export interface DeploymentRecord {
  endpoint: string;
  name: string;
  location: string;
  tags: Record<string, string>;
  kind?: string;
  identity?: Record<string, unknown>;
  sku: Record<string, unknown>;
  properties: Record<string, unknown>;
  provisioningState: 'Creating' | 'Updating' | 'Deleting' | 'Succeeded' | 'Failed' | 'Canceled';
  /** The inference server serving it, once one came up. */
  runtime?: DeploymentRuntime;
  logs: { StorageInitializer: LogTail; InferenceServer: LogTail };
  systemData: SystemData;
}

export interface OperationRecord {
  id: string;
  /** The SDK operation that started it, e.g. OnlineDeployments.createOrUpdate. */
  name: string;
  endpoint: string;
  deployment?: string;
  status: 'InProgress' | 'Succeeded' | 'Failed';
  startTime: string;
  endTime?: string;
  error?: { code: string; message: string };
  /** Where the final resource is read (PUT/PATCH); none for DELETE. */
  resourcePath?: string;
  done: Promise<void>;
}

export interface RequestLogEntry {
  at: string;
  method: string;
  path: string;
  apiVersion: string | null;
  /** The SDK operation it matched, or the LRO URL kind. */
  operation?: string;
  status: number;
  code?: string;
}

export interface ScoringLogEntry {
  at: string;
  endpoint: string;
  deployment?: string;
  requestId: string;
  status: number;
}

export interface EmulatorState {
  endpoints: Map<string, EndpointRecord>;
  /** Keyed "<endpoint>/<deployment>", lower-cased. */
  deployments: Map<string, DeploymentRecord>;
  assets: Record<AssetKind, Map<string, AssetContainer>>;
  operations: Map<string, OperationRecord>;
  /** Every ARM request, in order, with the status it got. */
  requests: RequestLogEntry[];
  /** Every scoring request at an endpoint's front door. */
  scoring: ScoringLogEntry[];
}

export function emptyState(): EmulatorState {
  return {
    endpoints: new Map(),
    deployments: new Map(),
    assets: { codes: new Map(), environments: new Map(), models: new Map() },
    operations: new Map(),
    requests: [],
    scoring: [],
  };
}

export const deploymentKey = (endpoint: string, deployment: string) => `${endpoint}/${deployment}`.toLowerCase();

export function deploymentsOf(state: EmulatorState, endpoint: string): DeploymentRecord[] {
  return [...state.deployments.values()].filter((d) => d.endpoint.toLowerCase() === endpoint.toLowerCase());
}
