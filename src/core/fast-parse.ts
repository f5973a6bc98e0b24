// A plain-function twin of a zod record schema, for the journal's hot path: a 100,000-line journal spends
// most of its validation time in zod's general machinery. compileParser walks the schema's definition
// and returns a function that gives what schema.parse would (the same value, keys in the schema's order,
// unknown keys dropped) for a value the schema accepts, and undefined for any other, so the caller then
// runs zod itself for its messages. A schema using anything not handled here compiles to null (zod only).
import type { z } from 'zod';

/** The parsed value, or undefined when the schema would refuse it. */
export type FastParser = (value: unknown) => unknown;

const REFUSED = undefined;

interface Def {
  type: string;
  checks?: Array<{ _zod: { def: Record<string, unknown> & { check: string } } }>;
  shape?: Record<string, z.ZodType>;
  catchall?: unknown;
  innerType?: z.ZodType;
  element?: z.ZodType;
  keyType?: z.ZodType;
  valueType?: z.ZodType;
  values?: unknown[];
  entries?: Record<string, unknown>;
  /** A default's value (zod's getter gives a fresh copy each time). */
  defaultValue?: unknown;
}

const defOf = (schema: z.ZodType) => (schema as unknown as { _zod: { def: Def } })._zod.def;

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** A value check for a string's or a number's checks: NO_CHECKS when it has none, null when one is not handled here. */
function checksOf(def: Def, kind: 'string' | 'number'): ((x: never) => boolean) | null | typeof NO_CHECKS {
  if (!def.checks?.length) return NO_CHECKS;
  const tests: Array<(x: never) => boolean> = [];
  for (const c of def.checks ?? []) {
    const d = c._zod.def;
    if (kind === 'string' && d.check === 'min_length' && typeof d.minimum === 'number') {
      const min = d.minimum;
      tests.push((x: string) => x.length >= min);
    } else if (kind === 'number' && d.check === 'number_format' && d.format === 'safeint') {
      tests.push((x: number) => Number.isSafeInteger(x));
    } else if (kind === 'number' && d.check === 'greater_than' && typeof d.value === 'number') {
      const v = d.value;
      tests.push(d.inclusive ? (x: number) => x >= v : (x: number) => x > v);
    } else {
      return null;
    }
  }
  if (tests.length === 0) return null;
  if (tests.length === 1) return tests[0]!;
  return (x: never) => tests.every((t) => t(x));
}

const NO_CHECKS = Symbol('no checks');

export function compileParser(schema: z.ZodType): FastParser | null {
  const def = defOf(schema);
  switch (def.type) {
    case 'string': {
      const ok = checksOf(def, 'string');
      if (!ok) return null;
      if (ok === NO_CHECKS) return (x) => (typeof x === 'string' ? x : REFUSED);
      return (x) => (typeof x === 'string' && ok(x as never) ? x : REFUSED);
    }
    case 'number': {
      const ok = checksOf(def, 'number');
      if (!ok) return null;
      if (ok === NO_CHECKS) return (x) => (typeof x === 'number' && Number.isFinite(x) ? x : REFUSED);
      return (x) => (typeof x === 'number' && Number.isFinite(x) && ok(x as never) ? x : REFUSED);
    }
    case 'boolean':
      if (def.checks?.length) return null;
      return (x) => (typeof x === 'boolean' ? x : REFUSED);
    case 'unknown':
      return (x) => x;
    case 'literal': {
      const values = def.values ?? [];
      return (x) => (values.includes(x) ? x : REFUSED);
    }
    case 'enum': {
      const values = new Set(Object.values(def.entries ?? {}));
      return (x) => (values.has(x) ? x : REFUSED);
    }
    case 'default': {
      // Absent: the default (a record written before a field existed), as zod gives it; else the inner schema.
      const inner = def.innerType && compileParser(def.innerType);
      if (!inner) return null;
      return (x) => (x === undefined ? def.defaultValue : inner(x));
    }
    case 'nullable': {
      const inner = def.innerType && compileParser(def.innerType);
      if (!inner) return null;
      return (x) => (x === null ? null : inner(x));
    }
    case 'array': {
      const element = def.element && compileParser(def.element);
      if (!element || def.checks?.length) return null;
      const elementDef = defOf(def.element!);
      if (elementDef.type === 'number' && !elementDef.checks?.length) {
        // Inter-token gaps: the one long array in a record, checked in a plain loop.
        return (x) => {
          if (!Array.isArray(x)) return REFUSED;
          for (let i = 0; i < x.length; i++) if (typeof x[i] !== 'number' || !Number.isFinite(x[i])) return REFUSED;
          return x.slice();
        };
      }
      return (x) => {
        if (!Array.isArray(x)) return REFUSED;
        const out = new Array(x.length);
        for (let i = 0; i < x.length; i++) {
          const v = element(x[i]);
          if (v === REFUSED) return REFUSED;
          out[i] = v;
        }
        return out;
      };
    }
    case 'record': {
      const key = def.keyType && defOf(def.keyType);
      const value = def.valueType && compileParser(def.valueType);
      if (!key || key.type !== 'string' || key.checks?.length || !value || def.checks?.length) return null;
      return (x) => {
        if (!isPlainObject(x)) return REFUSED;
        const out: Record<string, unknown> = {};
        for (const k of Object.keys(x)) {
          const v = value(x[k]);
          if (v === REFUSED) return REFUSED;
          out[k] = v;
        }
        return out;
      };
    }
    case 'object': {
      if (def.checks?.length || def.catchall !== undefined || !def.shape) return null;
      const fields: Array<{ key: string; optional: boolean; withDefault: boolean; parse: FastParser }> = [];
      for (const [key, field] of Object.entries(def.shape)) {
        const fieldDef = defOf(field);
        const optional = fieldDef.type === 'optional';
        const parse = compileParser(optional ? fieldDef.innerType! : field);
        if (!parse) return null;
        fields.push({ key, optional, withDefault: fieldDef.type === 'default', parse });
      }
      return (x) => {
        if (!isPlainObject(x)) return REFUSED;
        const out: Record<string, unknown> = {};
        for (const f of fields) {
          const v = x[f.key];
          if (v === undefined && !f.withDefault) {
            if (f.optional) continue;
            return REFUSED;
          }
          const parsed = f.parse(v);
          if (parsed === REFUSED) return REFUSED;
          out[f.key] = parsed;
        }
        return out;
      };
    }
    default:
      return null;
  }
}
