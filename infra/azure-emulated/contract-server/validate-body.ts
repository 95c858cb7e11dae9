// Request bodies checked against the SDK's own model mappers, as the service checks them:
// the SDK's serializer drops what it does not know and is lenient about the rest, so a
// hand-built body (or one built for another API version) reaches the service unchanged and
// is refused there. Each problem names its JSON path so the 400 says where to look.
import type { Mapper, SdkContract } from './sdk-contract';

export interface Problem {
  path: string;
  message: string;
}

const MAX_PROBLEMS = 10;
// core-client's isDuration: ISO 8601 durations (PT30S, P1D).
const DURATION =
  /^(-|\+)?P(?:([-+]?[0-9,.]*)Y)?(?:([-+]?[0-9,.]*)M)?(?:([-+]?[0-9,.]*)W)?(?:([-+]?[0-9,.]*)D)?(?:T(?:([-+]?[0-9,.]*)H)?(?:([-+]?[0-9,.]*)M)?(?:([-+]?[0-9,.]*)S)?)?$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function validateBody(contract: SdkContract, mapper: Mapper, body: unknown): Problem[] {
  const problems: Problem[] = [];
  if (body === undefined) return [{ path: '(body)', message: 'a request body is required' }];
  new Walker(contract, problems).value(mapper, body, '', undefined);
  return problems.slice(0, MAX_PROBLEMS);
}

/** "a.b: message; c: message" — the text of a UserError. */
export function describeProblems(problems: Problem[]): string {
  return problems.map((p) => `${p.path || '(body)'}: ${p.message}`).join('; ');
}

type Owner = { className: string; property: string } | undefined;

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const describe = (v: unknown) =>
  v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'string' ? `the string ${JSON.stringify(v)}` : `a ${typeof v}`;
const join = (path: string, key: string) => (path ? `${path}.${key}` : key);

class Walker {
  constructor(
    private readonly contract: SdkContract,
    private readonly problems: Problem[],
  ) {}

  private fail(path: string, message: string) {
    this.problems.push({ path, message });
  }

  /** One value against one property mapper (presence already checked by the caller). */
  value(mapper: Mapper, value: unknown, path: string, owner: Owner): void {
    if (this.problems.length >= MAX_PROBLEMS) return;
    if (value === null) {
      if (mapper.required && !mapper.nullable) this.fail(path, 'must not be null');
      else if (mapper.nullable === false) this.fail(path, 'must not be null');
      return;
    }
    if (mapper.isConstant && value !== mapper.defaultValue) {
      this.fail(path, `must be the constant ${JSON.stringify(mapper.defaultValue)}, got ${describe(value)}`);
      return;
    }
    const type = mapper.type.name.toLowerCase();
    switch (type) {
      case 'any':
      case 'object':
      case 'stream':
        return;
      case 'string':
        if (typeof value !== 'string') return this.fail(path, `expected a string, got ${describe(value)}`);
        this.knownValue(value, path, owner);
        return this.constraints(mapper, value, path);
      case 'uuid':
        if (typeof value !== 'string' || !UUID.test(value)) return this.fail(path, `expected a UUID, got ${describe(value)}`);
        return;
      case 'number':
        if (typeof value !== 'number' || !Number.isFinite(value)) return this.fail(path, `expected a number, got ${describe(value)}`);
        return this.constraints(mapper, value, path);
      case 'unixtime':
        if (typeof value !== 'number') return this.fail(path, `expected a Unix time (number), got ${describe(value)}`);
        return;
      case 'boolean':
        if (typeof value !== 'boolean') return this.fail(path, `expected true or false, got ${describe(value)}`);
        return;
      case 'date':
      case 'datetime':
      case 'datetimerfc1123':
        if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) return this.fail(path, `expected a date-time string, got ${describe(value)}`);
        return;
      case 'timespan':
        if (typeof value !== 'string' || !DURATION.test(value)) return this.fail(path, `expected an ISO 8601 duration such as "PT30S", got ${describe(value)}`);
        return;
      case 'bytearray':
      case 'base64url':
        if (typeof value !== 'string') return this.fail(path, `expected base64 text, got ${describe(value)}`);
        return;
      case 'enum': {
        const allowed = mapper.type.allowedValues ?? [];
        if (typeof value !== 'string' || !allowed.some((a) => a.toLowerCase() === value.toLowerCase())) {
          this.fail(path, `${describe(value)} is not one of ${allowed.join(', ')}`);
        }
        return;
      }
      case 'sequence': {
        if (!Array.isArray(value)) return this.fail(path, `expected an array, got ${describe(value)}`);
        this.constraints(mapper, value, path);
        const element = this.resolve(mapper.type.element!);
        value.forEach((item, i) => this.value(element, item, `${path}[${i}]`, undefined));
        return;
      }
      case 'dictionary': {
        if (!isPlainObject(value)) return this.fail(path, `expected an object (a map), got ${describe(value)}`);
        const valueMapper = this.resolve(mapper.type.value!);
        for (const [k, v] of Object.entries(value)) this.value(valueMapper, v, join(path, k), undefined);
        return;
      }
      case 'composite':
        if (!isPlainObject(value)) return this.fail(path, `expected an object, got ${describe(value)}`);
        return this.composite(mapper, value, path);
      default:
        return this.fail(path, `the SDK's mapper has a type (${mapper.type.name}) this emulator does not check`);
    }
  }

  private knownValue(value: string, path: string, owner: Owner) {
    if (!owner) return;
    const known = this.contract.knownValues(owner.className, owner.property);
    if (known && !known.some((k) => k.toLowerCase() === value.toLowerCase())) {
      this.fail(path, `${JSON.stringify(value)} is not one of ${known.join(', ')}`);
    }
  }

  private constraints(mapper: Mapper, value: string | number | unknown[], path: string) {
    const c = mapper.constraints as Record<string, number | RegExp | string | boolean> | undefined;
    if (!c) return;
    const n = value as number;
    const len = (value as { length?: number }).length ?? 0;
    if (c.InclusiveMaximum !== undefined && n > (c.InclusiveMaximum as number)) this.fail(path, `must be at most ${c.InclusiveMaximum}`);
    if (c.InclusiveMinimum !== undefined && n < (c.InclusiveMinimum as number)) this.fail(path, `must be at least ${c.InclusiveMinimum}`);
    if (c.ExclusiveMaximum !== undefined && n >= (c.ExclusiveMaximum as number)) this.fail(path, `must be less than ${c.ExclusiveMaximum}`);
    if (c.ExclusiveMinimum !== undefined && n <= (c.ExclusiveMinimum as number)) this.fail(path, `must be more than ${c.ExclusiveMinimum}`);
    if (c.MaxLength !== undefined && len > (c.MaxLength as number)) this.fail(path, `must be at most ${c.MaxLength} long`);
    if (c.MinLength !== undefined && len < (c.MinLength as number)) this.fail(path, `must be at least ${c.MinLength} long`);
    if (c.MaxItems !== undefined && len > (c.MaxItems as number)) this.fail(path, `must have at most ${c.MaxItems} items`);
    if (c.MinItems !== undefined && len < (c.MinItems as number)) this.fail(path, `must have at least ${c.MinItems} items`);
    if (c.Pattern !== undefined) {
      const pattern = typeof c.Pattern === 'string' ? new RegExp(c.Pattern) : (c.Pattern as RegExp);
      if (typeof value !== 'string' || !pattern.test(value)) this.fail(path, `must match ${pattern}`);
    }
  }

  /** A mapper that only names its class (as properties do) replaced by the full definition. */
  private resolve(mapper: Mapper): Mapper {
    if (mapper.type.name === 'Composite' && mapper.type.className && !mapper.type.modelProperties) {
      return this.contract.mappers[mapper.type.className] ?? mapper;
    }
    return mapper;
  }

  private composite(declared: Mapper, value: Record<string, unknown>, path: string) {
    let mapper = this.resolve(declared);
    const discriminator = this.discriminatorOf(mapper);
    if (discriminator) {
      const chosen = value[discriminator.serializedName];
      // Only types under the declared class: a datastore's properties cannot be a Command job
      // even though both descend from ResourceBase.
      const leaves = this.leafDiscriminators(mapper.type.className!);
      if (leaves.size === 0 && mapper.serializedName) leaves.set(mapper.serializedName, mapper);
      if (chosen === undefined || chosen === null) {
        this.fail(join(path, discriminator.serializedName), `required property missing (one of ${[...leaves.keys()].join(', ')})`);
        return;
      }
      const concrete = typeof chosen === 'string' ? leaves.get(chosen) : undefined;
      if (!concrete) {
        this.fail(join(path, discriminator.serializedName), `${describe(chosen)} is not one of ${[...leaves.keys()].join(', ')}`);
        return;
      }
      mapper = concrete;
    }
    const className = mapper.type.className ?? '(object)';
    this.properties(mapper, className, mapper.type.modelProperties ?? {}, value, path, discriminator?.serializedName);
  }

  /**
   * Properties, including flattened ones ("properties.description" on a resource); anything
   * the mapper does not declare is refused unless it has additionalProperties.
   */
  private properties(
    mapper: Mapper,
    className: string,
    props: Record<string, Mapper>,
    value: Record<string, unknown>,
    path: string,
    discriminatorKey?: string,
  ) {
    const direct = new Map<string, { clientName: string; mapper: Mapper }>();
    const nested = new Map<string, Record<string, Mapper>>();
    for (const [clientName, prop] of Object.entries(props)) {
      const [head, ...rest] = (prop.serializedName ?? clientName).split(/(?<!\\)\./).map((s) => s.replace(/\\\./g, '.'));
      if (rest.length === 0) direct.set(head!, { clientName, mapper: prop });
      else nested.set(head!, { ...nested.get(head!), [clientName]: { ...prop, serializedName: rest.join('.') } });
    }
    for (const [key, { clientName, mapper: prop }] of direct) {
      const v = value[key];
      const at = join(path, key);
      if (v === undefined) {
        if (prop.required && !prop.readOnly) this.fail(at, 'required property missing');
        continue;
      }
      if (prop.readOnly && v !== null) {
        this.fail(at, 'is read-only; the service sets it, a request must not send it');
        continue;
      }
      if (key === discriminatorKey) continue; // already matched to a concrete type
      this.value(this.resolve(prop), v, at, { className, property: clientName });
    }
    for (const [key, group] of nested) {
      const v = value[key];
      if (v === undefined || v === null) {
        for (const [name, prop] of Object.entries(group))
          if (prop.required) this.fail(join(join(path, key), prop.serializedName ?? name), 'required property missing');
        continue;
      }
      if (!isPlainObject(v)) {
        this.fail(join(path, key), `expected an object, got ${describe(v)}`);
        continue;
      }
      this.properties(mapper, className, group, v, join(path, key));
    }
    const extra = mapper.type.additionalProperties;
    for (const key of Object.keys(value)) {
      if (direct.has(key) || nested.has(key)) continue;
      if (extra) this.value(this.resolve(extra), value[key], join(path, key), undefined);
      else this.fail(join(path, key), `unknown property (${className} has no "${key}")`);
    }
  }

  private discriminatorOf(mapper: Mapper) {
    const byName = (name?: string) => (name ? this.contract.mappers[name]?.type.polymorphicDiscriminator : undefined);
    return mapper.type.polymorphicDiscriminator ?? byName(mapper.type.uberParent) ?? byName(mapper.type.className);
  }

  /**
   * Concrete types under a polymorphic class, by discriminator value, walked as core-client's
   * getIndexDiscriminator walks them; abstract middles
   * (OnlineDeploymentProperties under EndpointDeploymentPropertiesBase) are not offered.
   */
  private leafDiscriminators(typeName: string): Map<string, Mapper> {
    const all = this.contract.discriminators;
    const leaves = new Map<string, Mapper>();
    const queue = [typeName];
    const seen = new Set<string>();
    while (queue.length) {
      const current = queue.shift()!;
      if (seen.has(current)) continue;
      seen.add(current);
      for (const [key, m] of Object.entries(all)) {
        if (!key.startsWith(`${current}.`) || m.type.uberParent !== current) continue;
        const isAbstract = Object.keys(all).some((k) => k.startsWith(`${m.type.className}.`));
        if (isAbstract) queue.push(m.type.className!);
        else leaves.set(key.slice(current.length + 1), m);
      }
    }
    return leaves;
  }
}
