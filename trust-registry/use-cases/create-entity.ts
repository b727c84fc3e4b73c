import { z } from 'zod';
import { conflict } from '../../core/http/errors.ts';
import { parseOrThrow, zDidWeb, zI18nText } from '../../core/http/validate.ts';
import { ENTITY_KINDS, type Entity } from '../../core/trust/model.ts';
import { toIso } from '../../core/util/time.ts';
import type { AuthorityKeys } from '../authority-keys.ts';
import type { Registry } from '../registry.ts';

/** Public P-256 JWK only: a private member (`d`) is refused, never stored. */
export const zPublicJwk = z.strictObject({
  kty: z.literal('EC'),
  crv: z.literal('P-256'),
  x: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be 32 bytes base64url'),
  y: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be 32 bytes base64url'),
  kid: z.string().max(200).optional(),
  use: z.literal('sig').optional(),
  alg: z.literal('ES256').optional(),
});

export const zCreateEntity = z.strictObject({
  /** The organisation's did:web (entities are organisations only, never citizens). */
  id: zDidWeb,
  kind: z.enum(ENTITY_KINDS),
  name: zI18nText,
  jwks: z.array(zPublicJwk).min(1).max(5).optional(),
});

/**
 * Registers an organisation. An authority under the registry's own `authorities` path (a department
 * created at runtime, issue 15) gets its key and did:web document right after the write commits,
 * so its accreditations can be signed and its DID resolved at once.
 */
export async function createEntity(registry: Registry, actor: string, body: unknown, opts: { authorityKeys?: AuthorityKeys } = {}): Promise<Entity> {
  const input = parseOrThrow(zCreateEntity, body);
  const entity: Entity = { id: input.id, kind: input.kind, name: input.name, ...(input.jwks ? { jwks: input.jwks } : {}) };
  const created = await registry.write(
    () => ({ actor, action: 'entity.create', target: entity.id, details: { kind: entity.kind, name: entity.name } }),
    async (m, index) => {
      if (index.entities.has(entity.id)) throw conflict('entity-exists', `Entity ${entity.id} is already registered.`);
      await registry.deps.store.insertEntity(m, entity, toIso(registry.clock()));
      return entity;
    },
  );
  if (created.kind === 'authority' && opts.authorityKeys?.hosts(created.id)) await opts.authorityKeys.ensure(created.id);
  return created;
}
