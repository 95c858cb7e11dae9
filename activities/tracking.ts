// `mlc runs`, `mlc alias`, `mlc evaluate` and `mlc history` read the registry through a worker when it is the
// embedded one (PGlite belongs to the worker's process). One activity answers them all, for an
// allow-list of registry methods, each with its arguments checked: nothing else of the registry
// is reachable this way, and the one write (setModelAlias) keeps its own checks.
import { z } from 'zod';
import type { Registry } from '../adapters/db/port';
import type { ActivityDeps } from './deps';
import { userError } from './errors';

const name = z.string().min(1).max(200);
const version = z.number().int().positive();

/** The registry methods a CLI may call through a worker, with their argument lists. */
export const trackingRequestArgs = {
  listModels: z.tuple([]),
  listRuns: z.tuple([name]),
  describeRun: z.tuple([name]),
  metricHistory: z.tuple([name]),
  getModelVersion: z.tuple([name, version]),
  listModelAliases: z.tuple([name]),
  aliasHistory: z.tuple([name]),
  listDecisions: z.tuple([name]),
  setModelAlias: z.tuple([z.object({ model: name, alias: name, version, setBy: name, reason: z.string().min(1).max(2000), changeKey: name })]),
} satisfies { [K in keyof Registry]?: z.ZodType };

export type TrackingMethod = keyof typeof trackingRequestArgs;
/** The part of the registry `mlc` uses for tracking, whether opened directly or through a worker. */
export type TrackingRegistry = Pick<Registry, TrackingMethod>;
export const trackingMethods = Object.keys(trackingRequestArgs) as TrackingMethod[];

export interface TrackingRequest {
  method: string;
  args: unknown[];
}

export function trackingActivities({ registry }: Pick<ActivityDeps, 'registry'>) {
  return {
    async answerTrackingRequest(request: TrackingRequest): Promise<unknown> {
      if (!Object.hasOwn(trackingRequestArgs, request.method)) {
        throw userError('UnknownTrackingRequest', `"${request.method}" is not a registry request mlc may make (allowed: ${trackingMethods.join(', ')})`);
      }
      const method = request.method as TrackingMethod;
      const parsed = trackingRequestArgs[method].safeParse(request.args);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw userError('InvalidTrackingRequest', `${method}: argument ${issue?.path.join('.') || ''} ${issue?.message ?? 'is invalid'}`);
      }
      const methods = registry as unknown as Record<TrackingMethod, (...args: unknown[]) => Promise<unknown>>;
      return methods[method](...parsed.data);
    },
  };
}
