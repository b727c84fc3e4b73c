import { z } from 'zod';

type Json = Record<string, unknown>;

/**
 * A zod schema as an OpenAPI 3.1 component (JSON Schema 2020-12) added to `into` under `name`.
 * Recursive parts (claims within claims) come out of zod as local `$defs`; they become components of
 * their own (`<name>_<def>`), so every `$ref` resolves against the OpenAPI document. Returns the `$ref`.
 */
export function openApiComponent(name: string, schema: z.ZodType, into: Json): Json {
  const raw = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Json;
  const defs = (raw.$defs ?? {}) as Json;
  delete raw.$defs;
  delete raw.$schema;
  const rename = (key: string) => `${name}_${key.replace(/[^A-Za-z0-9_]/g, '')}`;
  const rewrite = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(rewrite);
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v as Json).map(([k, x]) => [k, k === '$ref' && typeof x === 'string' && x.startsWith('#/$defs/') ? `#/components/schemas/${rename(x.slice('#/$defs/'.length))}` : rewrite(x)]));
    }
    return v;
  };
  for (const [k, d] of Object.entries(defs)) into[rename(k)] = rewrite(d);
  into[name] = rewrite(raw);
  return { $ref: `#/components/schemas/${name}` };
}
