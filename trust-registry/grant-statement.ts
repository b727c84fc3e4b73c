import type { JWK } from 'jose';
import { z } from 'zod';
import { peekHeader, signJwt, verifyJws, JoseVerifyError, type Signer } from '../core/crypto/jws.ts';
import { thumbprint } from '../core/crypto/jwk.ts';
import { KeyResolutionError, resolveAssertionKey } from '../core/did/resolver.ts';
import type { Resolver } from 'did-resolver';
import { ACTIONS, zGrantConstraints, type Entity, type Grant } from '../core/trust/model.ts';
import { zDid } from '../core/http/validate.ts';
import { toIso } from '../core/util/time.ts';

/**
 * A grant is a statement signed by its authority: a JWT (`typ: trust-grant+jwt`) with
 * `iss` = authority, `sub` = entity, `jti` = grant id, `nbf`/`exp` = validity, and the PARC
 * members `action`, `resource`, `constraints`. The registry keeps the statement as it was signed.
 */
export const GRANT_TYP = 'trust-grant+jwt';

export type GrantBody = Omit<Grant, 'statement' | 'history'>;

export function signGrant(signer: Signer, g: GrantBody, iatMs: number): Promise<string> {
  return signJwt(
    signer,
    {
      iss: g.authority_id,
      sub: g.entity_id,
      jti: g.id,
      iat: Math.floor(iatMs / 1000),
      nbf: Math.floor(Date.parse(g.valid_from) / 1000),
      ...(g.valid_until ? { exp: Math.floor(Date.parse(g.valid_until) / 1000) } : {}),
      action: g.action,
      resource: g.resource,
      constraints: g.constraints,
    },
    { typ: GRANT_TYP },
  );
}

const zStatementPayload = z.looseObject({
  iss: zDid,
  sub: zDid,
  jti: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, 'must be 8-64 URL-safe characters'),
  iat: z.number().int().positive(),
  nbf: z.number().int().positive(),
  exp: z.number().int().positive().optional(),
  action: z.enum(ACTIONS),
  resource: z.string().min(1).max(512),
  constraints: zGrantConstraints.default({}),
});

export class StatementError extends Error {
  override name = 'StatementError';
  constructor(
    readonly kind: 'malformed' | 'signature',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Verifies a statement submitted by an authority: the key is the authority's registered JWK (by
 * thumbprint = kid fragment) or, failing that, an assertion key of its DID document.
 */
export async function verifyGrantStatement(statement: string, authority: Entity | undefined, resolver: Resolver): Promise<GrantBody> {
  let header;
  try {
    header = peekHeader(statement);
  } catch (e) {
    throw new StatementError('signature', (e as Error).message);
  }
  const kid = typeof header.kid === 'string' ? header.kid : undefined;
  if (!kid) throw new StatementError('signature', 'statement header has no kid');
  const did = kid.split('#')[0]!;
  if (!authority || authority.id !== did) throw new StatementError('signature', 'statement kid does not belong to a registered authority');
  let key: JWK | undefined;
  const fragment = kid.slice(did.length + 1);
  for (const k of authority.jwks ?? []) if ((await thumbprint(k)) === fragment) key = k;
  if (!key) {
    try {
      key = await resolveAssertionKey(resolver, kid, did);
    } catch (e) {
      throw new StatementError('signature', e instanceof KeyResolutionError ? e.message : 'authority key could not be resolved');
    }
  }
  let payload: unknown;
  try {
    // Signature and typ only: a grant may legitimately start in the future or have ended (nbf/exp
    // are its validity, judged by the trust evaluation, not a freshness check of the message).
    const verified = await verifyJws(statement, key, GRANT_TYP);
    payload = JSON.parse(new TextDecoder().decode(verified.payload));
  } catch (e) {
    throw new StatementError('signature', e instanceof JoseVerifyError ? `statement ${e.message}` : 'statement does not verify');
  }
  const parsed = zStatementPayload.safeParse(payload);
  if (!parsed.success) throw new StatementError('malformed', `statement ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`);
  const p = parsed.data;
  if (p.iss !== did) throw new StatementError('signature', 'statement iss is not the signing authority');
  return {
    id: p.jti,
    authority_id: p.iss,
    entity_id: p.sub,
    action: p.action,
    resource: p.resource,
    valid_from: toIso(p.nbf * 1000),
    valid_until: p.exp ? toIso(p.exp * 1000) : null,
    constraints: p.constraints,
  };
}
