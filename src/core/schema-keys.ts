// The keys a zod object schema accepts at a path of a parsed config, for "unknown key" messages that
// list or suggest the valid ones. Walks zod 4's schema definitions: wrappers (optional, default, pipe...)
// are unwrapped, and a union is narrowed to the options whose literal fields (a `kind`) match the data.
import type { z } from 'zod';

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  in?: z.ZodType;
  options?: z.ZodType[];
  left?: z.ZodType;
  right?: z.ZodType;
  element?: z.ZodType;
  valueType?: z.ZodType;
  items?: z.ZodType[];
  getter?: () => z.ZodType;
  values?: unknown[];
}

function defOf(s: z.ZodType): Def {
  return (s as unknown as { _zod: { def: Def } })._zod.def;
}

/** The object schemas `s` may be for `data`: wrappers removed, unions narrowed by their literal fields. */
function objectsFor(s: z.ZodType, data: unknown, depth = 0): Def[] {
  if (depth > 20) return [];
  const d = defOf(s);
  switch (d.type) {
    case 'object':
      return [d];
    case 'optional': case 'nullable': case 'default': case 'prefault': case 'readonly': case 'catch': case 'nonoptional':
      return objectsFor(d.innerType!, data, depth + 1);
    case 'pipe':
      return objectsFor(d.in!, data, depth + 1);
    case 'lazy':
      return objectsFor(d.getter!(), data, depth + 1);
    case 'intersection':
      return [...objectsFor(d.left!, data, depth + 1), ...objectsFor(d.right!, data, depth + 1)];
    case 'union': {
      const all = d.options!.flatMap((o) => objectsFor(o, data, depth + 1));
      const matching = all.filter((o) => literalsMatch(o, data));
      return matching.length > 0 ? matching : all;
    }
    default:
      return [];
  }
}

/** True when every literal-valued field of the object schema (a discriminator) has that value in `data`. */
function literalsMatch(o: Def, data: unknown): boolean {
  let some = false;
  for (const [k, field] of Object.entries(o.shape ?? {})) {
    const fd = defOf(field);
    if (fd.type !== 'literal') continue;
    some = true;
    const v = data && typeof data === 'object' ? (data as Record<string, unknown>)[k] : undefined;
    if (!fd.values!.includes(v)) return false;
  }
  return some;
}

/** The schema one step down `seg` from `s` (a field, an array element, a record value), for `data`. */
function child(s: z.ZodType, seg: PropertyKey, data: unknown, depth = 0): z.ZodType[] {
  if (depth > 20) return [];
  const d = defOf(s);
  switch (d.type) {
    case 'object': {
      const f = d.shape![String(seg)];
      return f ? [f] : [];
    }
    case 'array':
      return [d.element!];
    case 'record':
      return [d.valueType!];
    case 'tuple':
      return typeof seg === 'number' && d.items![seg] ? [d.items![seg]!] : [];
    case 'optional': case 'nullable': case 'default': case 'prefault': case 'readonly': case 'catch': case 'nonoptional':
      return child(d.innerType!, seg, data, depth + 1);
    case 'pipe':
      return child(d.in!, seg, data, depth + 1);
    case 'lazy':
      return child(d.getter!(), seg, data, depth + 1);
    case 'intersection':
      return [...child(d.left!, seg, data, depth + 1), ...child(d.right!, seg, data, depth + 1)];
    case 'union': {
      const objs = d.options!.filter((o) => objectsFor(o, data).some((od) => literalsMatch(od, data)));
      return (objs.length > 0 ? objs : d.options!).flatMap((o) => child(o, seg, data, depth + 1));
    }
    default:
      return [];
  }
}

/** The keys accepted by the object at `path` of `data` under `schema`; [] when the path is not an object. */
export function keysAt(schema: z.ZodType, path: readonly PropertyKey[], data: unknown): string[] {
  let schemas: z.ZodType[] = [schema];
  let here = data;
  for (const seg of path) {
    schemas = schemas.flatMap((s) => child(s, seg, here));
    here = here && typeof here === 'object' ? (here as Record<PropertyKey, unknown>)[seg as string] : undefined;
  }
  const keys = new Set<string>();
  for (const s of schemas) for (const o of objectsFor(s, here)) for (const k of Object.keys(o.shape ?? {})) keys.add(k);
  return [...keys];
}
