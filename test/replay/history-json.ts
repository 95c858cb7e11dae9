// History ⇄ JSON in the format `temporal workflow show --output json` writes, as the SDK's
// historyToJSON / historyFromJSON (@temporalio/common/lib/proto-utils) do. Not those two
// functions themselves: in this install each @temporalio package has its own copy of
// protobufjs 8 (protobufjs 7, from onnxruntime-web, sits at the top of node_modules), and
// their `instanceof Type` check fails across copies ("type must be a Type"). The protojson
// helpers of the copy @temporalio/proto itself loads accept its types, so these use that one.
import proto from '@temporalio/proto';
import { createRequire } from 'node:module';

type History = proto.temporal.api.history.v1.IHistory;
interface ProtoJson {
  toJson: (type: unknown, message: unknown) => unknown;
  fromJson: (type: unknown, json: unknown, options: { ignoreUnknownFields: boolean }) => History | null;
}

const protoRequire = createRequire(createRequire(import.meta.url).resolve('@temporalio/proto'));
const { toJson, fromJson } = protoRequire('protobufjs/ext/protojson') as ProtoJson;
const historyType = (proto as unknown as { lookupType(name: string): unknown }).lookupType('temporal.api.history.v1.History');

export function historyToJSON(history: History): string {
  return JSON.stringify(toJson(historyType, proto.temporal.api.history.v1.History.fromObject(history)), null, 2);
}

/** A History the replay worker takes as is (eventIds as Long, so it does not convert it again). */
export function historyFromJSON(json: unknown): History {
  if (typeof json !== 'object' || json === null || !Array.isArray((json as { events?: unknown }).events)) {
    throw new TypeError('not a history: expected an object with an array of events');
  }
  // Unknown fields (a newer server's) are ignored, as the SDK's own reader does.
  const history = fromJson(historyType, json, { ignoreUnknownFields: true });
  if (!history) throw new TypeError('not a history');
  return history;
}
