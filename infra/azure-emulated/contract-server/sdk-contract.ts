// The contract, read from the installed @azure/arm-machinelearning itself rather than
// written down a second time: its operation specs (path, verb, body mapper, api-version)
// route the emulator's requests, its model mappers validate their bodies, and its `Known*`
// enums (tied to properties through the package's own .d.ts) say which strings a service
// accepts. The package does not export its Mappers, so its CommonJS bundle is compiled
// once more here with one line appended that hands them, and the specs, out.
import { readFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The parts of a core-client mapper the validator reads (the SDK's objects are richer). */
export interface Mapper {
  serializedName?: string;
  required?: boolean;
  nullable?: boolean;
  readOnly?: boolean;
  isConstant?: boolean;
  defaultValue?: unknown;
  constraints?: Record<string, unknown>;
  type: {
    name: string;
    className?: string;
    uberParent?: string;
    polymorphicDiscriminator?: { serializedName: string; clientName: string };
    modelProperties?: Record<string, Mapper>;
    additionalProperties?: Mapper;
    element?: Mapper;
    value?: Mapper;
    allowedValues?: string[];
  };
}

interface Parameter {
  parameterPath: string | string[];
  mapper: Mapper;
}

export interface OperationSpec {
  path: string;
  httpMethod: string;
  requestBody?: Parameter;
  queryParameters?: Parameter[];
  urlParameters?: Parameter[];
  responses: Record<string, { bodyMapper?: Mapper }>;
}

export interface Operation {
  /** e.g. "OnlineDeployments.createOrUpdate": the SDK's operation group and method. */
  name: string;
  spec: OperationSpec;
  /** The spec's path with {placeholders} as a regex; groups are named after them. */
  pattern: RegExp;
  params: string[];
}

export interface SdkContract {
  apiVersion: string;
  mappers: Record<string, Mapper>;
  discriminators: Record<string, Mapper>;
  operations: Operation[];
  /** Known values of a string property, by mapper class name (walking `extends`) and property. */
  knownValues(className: string, property: string): string[] | undefined;
}

let cached: SdkContract | undefined;

export function loadSdkContract(): SdkContract {
  return (cached ??= load());
}

function load(): SdkContract {
  const require = createRequire(import.meta.url);
  const distPath = require.resolve('@azure/arm-machinelearning');
  const source = readFileSync(distPath, 'utf8');

  // Every `const xxxOperationSpec$N = {` with the `class XxxImpl` it follows.
  const classes = [...source.matchAll(/^class (\w+)Impl \{/gm)].map((m) => ({ at: m.index, group: m[1]! }));
  const specs = [...source.matchAll(/^const (\w+?)OperationSpec(\$\w+)? = \{/gm)].map((m) => {
    const group = classes.filter((c) => c.at < m.index).at(-1)?.group ?? 'Client';
    return { variable: `${m[1]}OperationSpec${m[2] ?? ''}`, name: `${group}.${m[1]}` };
  });
  const handOut = `\nmodule.exports.__contract = { Mappers, specs: { ${specs.map((s) => `${JSON.stringify(s.variable)}: ${s.variable}`).join(', ')} } };\n`;

  type CompilableModule = { filename: string; paths: string[]; exports: Record<string, unknown>; _compile(code: string, filename: string): void };
  const ModuleClass = Module as unknown as { new (id: string): CompilableModule; _nodeModulePaths(dir: string): string[] };
  const compiled = new ModuleClass(distPath);
  compiled.filename = distPath;
  compiled.paths = ModuleClass._nodeModulePaths(dirname(distPath));
  compiled._compile(source + handOut, distPath);
  const exported = compiled.exports as Record<string, unknown> & {
    __contract: { Mappers: Record<string, Mapper> & { discriminators: Record<string, Mapper> }; specs: Record<string, OperationSpec> };
  };
  const { Mappers, specs: specByVariable } = exported.__contract;

  const operations: Operation[] = specs
    .map(({ variable, name }) => ({ name, spec: specByVariable[variable]! }))
    .filter(({ spec }) => !spec.path.startsWith('{nextLink}'))
    .map(({ name, spec }) => {
      const params: string[] = [];
      const source = spec.path
        .split(/(\{\w+\})/)
        .map((part) => {
          const m = /^\{(\w+)\}$/.exec(part);
          if (!m) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
          params.push(m[1]!);
          return `(?<${m[1]}>[^/]+)`;
        })
        .join('');
      return { name, spec, params, pattern: new RegExp(`^${source}$`, 'i') };
    });

  const apiVersionParam = operations.flatMap((o) => o.spec.queryParameters ?? []).find((p) => p.mapper.serializedName === 'api-version');
  const apiVersionDefault = apiVersionParam?.mapper.defaultValue;
  const apiVersion = typeof apiVersionDefault === 'string' ? apiVersionDefault : '';

  const known = knownValuesFromTypes(require, exported);
  return {
    apiVersion,
    mappers: Mappers,
    discriminators: Mappers.discriminators,
    operations,
    knownValues: known,
  };
}

/**
 * The SDK types "enum" properties as plain strings (`authMode: EndpointAuthMode`, with
 * `type EndpointAuthMode = string`) and ships the service's values as `KnownEndpointAuthMode`.
 * Read which property has which alias from the .d.ts, and the values from the runtime.
 */
function knownValuesFromTypes(require: NodeJS.Require, exported: Record<string, unknown>) {
  const pkgDir = dirname(require.resolve('@azure/arm-machinelearning/package.json'));
  const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { types: string };
  const dts = readFileSync(join(pkgDir, pkg.types), 'utf8').replace(/\r\n/g, '\n');
  const interfaces = new Map<string, { parents: string[]; props: Map<string, string> }>();
  for (const m of dts.matchAll(/^export declare interface (\w+)(?: extends ([\w, ]+))? \{\n([\s\S]*?)\n\}/gm)) {
    const props = new Map<string, string>();
    for (const p of m[3]!.matchAll(/^ {4}(?:readonly )?(\w+)\??: (\w+);$/gm)) props.set(p[1]!, p[2]!);
    interfaces.set(m[1]!, {
      parents: (m[2] ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      props,
    });
  }
  return (className: string, property: string): string[] | undefined => {
    const seen = new Set<string>();
    const queue = [className];
    while (queue.length) {
      const name = queue.shift()!;
      if (seen.has(name)) continue;
      seen.add(name);
      const decl = interfaces.get(name);
      if (!decl) continue;
      const alias = decl.props.get(property);
      if (alias) {
        const values = exported[`Known${alias}`];
        return values && typeof values === 'object' ? Object.values(values as Record<string, string>) : undefined;
      }
      queue.push(...decl.parents);
    }
    return undefined;
  };
}
