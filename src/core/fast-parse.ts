// A plain-function twin of a zod record schema, for the journal's hot path: a 100,000-line journal spends
// most of its validation time in zod's general machinery, and zod's copy of each record takes more memory
// than the object JSON.parse made. compileCheck walks the schema's definition and returns a predicate:
// true when the schema accepts the value as it stands, with no key it would drop, so the value itself is
// what parse would give (the same fields and values; keys in the file's order). For anything else the
// caller runs zod (which drops unknown keys, or refuses with its messages). A schema using anything not
// handled here compiles to null (zod only).
import type { z } from 'zod';

/** True when the schema accepts the value unchanged. */
export type ExactCheck = (value: unknown) => boolean;

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
}

const defOf = (schema: z.ZodType) => (schema as unknown as { _zod: { def: Def } })._zod.def;

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

const NO_CHECKS = Symbol('no checks');

/** A string's or a number's checks as one test: NO_CHECKS when it has none, null when one is not handled here. */
function checksOf(def: Def, kind: 'string' | 'number'): ((x: never) => boolean) | null | typeof NO_CHECKS {
  if (!def.checks?.length) return NO_CHECKS;
  const tests: Array<(x: never) => boolean> = [];
  for (const c of def.checks) {
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
  if (tests.length === 1) return tests[0]!;
  return (x: never) => tests.every((t) => t(x));
}

export function compileCheck(schema: z.ZodType): ExactCheck | null {
  const def = defOf(schema);
  switch (def.type) {
    case 'string': {
      const ok = checksOf(def, 'string');
      if (!ok) return null;
      if (ok === NO_CHECKS) return (x) => typeof x === 'string';
      return (x) => typeof x === 'string' && ok(x as never);
    }
    case 'number': {
      const ok = checksOf(def, 'number');
      if (!ok) return null;
      if (ok === NO_CHECKS) return (x) => typeof x === 'number' && Number.isFinite(x);
      return (x) => typeof x === 'number' && Number.isFinite(x) && ok(x as never);
    }
    case 'boolean':
      if (def.checks?.length) return null;
      return (x) => typeof x === 'boolean';
    case 'unknown':
      return () => true;
    case 'literal': {
      const values = def.values ?? [];
      return (x) => values.includes(x);
    }
    case 'enum': {
      const values = new Set(Object.values(def.entries ?? {}));
      return (x) => values.has(x);
    }
    case 'nullable': {
      const inner = def.innerType && compileCheck(def.innerType);
      if (!inner) return null;
      return (x) => x === null || inner(x);
    }
    case 'default': {
      // Absent, zod gives the default (a record written before the field existed): not the value as it
      // stands, so zod decides; present, the inner schema.
      const inner = def.innerType && compileCheck(def.innerType);
      if (!inner) return null;
      return (x) => x !== undefined && inner(x);
    }
    case 'array': {
      const element = def.element && compileCheck(def.element);
      if (!element || def.checks?.length) return null;
      const elementDef = defOf(def.element!);
      if (elementDef.type === 'number' && !elementDef.checks?.length) {
        // Inter-token gaps: the one long array in a record, checked in a plain loop.
        return (x) => {
          if (!Array.isArray(x)) return false;
          for (let i = 0; i < x.length; i++) if (typeof x[i] !== 'number' || !Number.isFinite(x[i])) return false;
          return true;
        };
      }
      return (x) => Array.isArray(x) && x.every((v) => element(v));
    }
    case 'record': {
      const key = def.keyType && defOf(def.keyType);
      const value = def.valueType && compileCheck(def.valueType);
      if (!key || key.type !== 'string' || key.checks?.length || !value || def.checks?.length) return null;
      return (x) => {
        if (!isPlainObject(x)) return false;
        for (const k in x) if (!value(x[k])) return false;
        return true;
      };
    }
    case 'object': {
      if (def.checks?.length || def.catchall !== undefined || !def.shape) return null;
      const fields: Array<{ key: string; optional: boolean; check: ExactCheck }> = [];
      for (const [key, field] of Object.entries(def.shape)) {
        const fieldDef = defOf(field);
        const optional = fieldDef.type === 'optional';
        const check = compileCheck(optional ? fieldDef.innerType! : field);
        if (!check) return null;
        fields.push({ key, optional, check });
      }
      return (x) => {
        if (!isPlainObject(x)) return false;
        let present = 0;
        for (const f of fields) {
          const v = x[f.key];
          if (v === undefined) {
            // An optional key holding undefined is kept by zod as it is; only JSON-made values come here.
            if (f.optional && !(f.key in x)) continue;
            return false;
          }
          if (!f.check(v)) return false;
          present++;
        }
        // A key the schema does not know (zod would drop it, so the value would change): more keys than fields found.
        return Object.keys(x).length === present;
      };
    }
    default:
      return null;
  }
}
