import { z } from 'zod';
import { badRequest } from '../http/errors.ts';
import type { ClaimDef, CredentialTypeDef, Derivation } from './model.ts';

/**
 * A credential type's claims as a validator: built once per type definition (the catalogue caches
 * it with the type), never per request. The zod schema is also what /openapi.json and the desk
 * page describe (z.toJSONSchema).
 */

/** A real calendar date, YYYY-MM-DD. */
const zDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
  .refine((s) => {
    const d = new Date(`${s}T00:00:00Z`);
    return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(s);
  }, 'must be a valid calendar date');

function claimSchema(c: ClaimDef): z.ZodType {
  let s: z.ZodType;
  switch (c.type) {
    case 'string': {
      const hint = c.hint ? `must be ${c.hint.en}` : undefined;
      let str = z.string().trim().min(1, 'must not be empty').max(c.max_length, hint);
      // Anchored here: a configured pattern describes the whole value.
      if (c.pattern) str = str.regex(new RegExp(`^(?:${c.pattern})$`, 'u'), hint ?? 'has the wrong form');
      s = str;
      break;
    }
    case 'date':
      s = zDate;
      break;
    case 'boolean':
      s = z.boolean();
      break;
    case 'enum':
      s = z.enum(c.values.map((v) => v.value) as [string, ...string[]]);
      break;
    case 'address':
    case 'object':
      s = objectSchema(c.claims);
      break;
  }
  // A derived claim may be left out: the issuer computes it (deriveClaims).
  return c.mandatory && !(c.type === 'boolean' && c.derived) ? s : s.optional();
}

function objectSchema(claims: ClaimDef[]): z.ZodObject {
  return z.strictObject(Object.fromEntries(claims.map((c) => [c.name, claimSchema(c)])));
}

/** The validator of a type's claims (strict: unknown members are refused, naming the member). */
export function compileClaimsSchema(t: Pick<CredentialTypeDef, 'claims'>): z.ZodObject {
  return objectSchema(t.claims);
}

const valueAt = (claims: Record<string, unknown>, path: string): unknown =>
  path.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), claims);

function derive(d: Derivation, claims: Record<string, unknown>, now: number, field: string): boolean | undefined {
  const source = valueAt(claims, d.from);
  if (source === undefined) return undefined;
  if (d.rule === 'equals') return String(source).trim().toLocaleLowerCase('de') === d.value.trim().toLocaleLowerCase('de');
  const birth = new Date(`${String(source)}T00:00:00Z`);
  if (birth.getTime() > now) throw badRequest(`claims: ${d.from}: must not be in the future`, { field: `claims.${d.from}` });
  const anniversary = Date.UTC(birth.getUTCFullYear() + d.years, birth.getUTCMonth(), birth.getUTCDate());
  void field;
  return now >= anniversary;
}

/**
 * Computes the derived claims of validated claims on the day `now` (in place, returns them). A
 * derived claim a caller sent must agree with what the rule gives, else 400 naming it: a clerk's
 * tick never overrides the date of birth.
 */
export function deriveClaims(t: Pick<CredentialTypeDef, 'claims'>, claims: Record<string, unknown>, now: number): Record<string, unknown> {
  const walk = (defs: ClaimDef[], target: Record<string, unknown>, prefix: string[]) => {
    for (const c of defs) {
      const path = [...prefix, c.name].join('.');
      if (c.type === 'boolean' && c.derived) {
        const value = derive(c.derived, claims, now, path);
        if (value === undefined) continue;
        if (target[c.name] !== undefined && target[c.name] !== value) {
          throw badRequest(`claims: ${path}: is derived from ${c.derived.from} and must be ${value} (or left out)`, { field: `claims.${path}` });
        }
        target[c.name] = value;
      } else if ((c.type === 'address' || c.type === 'object') && target[c.name] && typeof target[c.name] === 'object') {
        walk(c.claims, target[c.name] as Record<string, unknown>, [...prefix, c.name]);
      }
    }
  };
  walk(t.claims, claims, []);
  return claims;
}

/**
 * Paths to make selectively disclosable in SD-JWT VC (SD-JWT VC §9.6 `sd`): every claim whose `sd`
 * is not `never`, and inside an address or object each member that is not `never` (RFC 9901 §4.2.6
 * recursive disclosure), so a holder can reveal `anschrift.ort` without `anschrift.strasse`.
 */
export function disclosablePaths(t: Pick<CredentialTypeDef, 'claims'>): string[][] {
  const out: string[][] = [];
  const walk = (defs: ClaimDef[], prefix: string[]) => {
    for (const c of defs) {
      if (c.sd !== 'never') out.push([...prefix, c.name]);
      if (c.type === 'address' || c.type === 'object') walk(c.claims, [...prefix, c.name]);
    }
  };
  walk(t.claims, []);
  return out;
}
