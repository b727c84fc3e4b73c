import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { badRequest, conflict, forbidden, notFound, ProblemError } from '../../core/http/errors.ts';
import { parseOrThrow, zDid, zUtcDateTime } from '../../core/http/validate.ts';
import { delegationRefusal, type TrustIndex } from '../../core/trust/evaluate.ts';
import { ACTIONS, zGrantConstraints, type Grant } from '../../core/trust/model.ts';
import { isPattern } from '../../core/trust/resource.ts';
import { toIso } from '../../core/util/time.ts';
import { signGrant, StatementError, verifyGrantStatement, type GrantBody } from '../grant-statement.ts';
import type { Registry } from '../registry.ts';
import { effectiveTime, wholeSeconds, zCorrection } from './recording-time.ts';

/** Either the grant's members (the registry signs for an authority whose key it holds) or a statement the authority signed. */
export const zCreateGrant = z.union([
  z.strictObject({
    statement: z.string().min(20).max(20_000).regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, 'must be a compact JWS'),
    correction: zCorrection.optional(),
  }),
  z.strictObject({
    authority_id: zDid.optional(),
    entity_id: zDid,
    action: z.enum(ACTIONS),
    resource: z.string().min(1).max(512),
    valid_from: zUtcDateTime.optional(),
    valid_until: zUtcDateTime.optional(),
    constraints: zGrantConstraints.default({}),
    /** Only for a grant valid from before it is recorded (recording-time.ts). */
    correction: zCorrection.optional(),
  }),
]);

const KIND_FOR: Record<Grant['action'], string> = { issue: 'issuer', verify: 'verifier', accredit: 'authority' };

/** Checks of a grant that do not depend on who signed it. */
function checkShape(index: TrustIndex, g: GrantBody): void {
  const entity = index.entities.get(g.entity_id);
  if (!entity) throw notFound('unknown-entity', `Entity ${g.entity_id} is not registered.`);
  if (entity.kind !== KIND_FOR[g.action]) throw badRequest(`action ${g.action} can only be granted to an entity of kind ${KIND_FOR[g.action]}`, { field: 'action' });
  if (!index.isKnownAuthority(g.authority_id)) throw notFound('unknown-authority', `Authority ${g.authority_id} is not registered.`);
  if (g.action === 'accredit') {
    if (!/^[A-Za-z][A-Za-z0-9+.-]*:[^\s*]*\*?$|^\*$/.test(g.resource)) throw badRequest('resource: must be a credential type, a "prefix*" pattern or "*"', { field: 'resource' });
    if (g.constraints.claims || g.constraints.purpose) throw badRequest('constraints: claims and purpose belong to verify grants', { field: 'constraints' });
  } else {
    if (isPattern(g.resource)) throw badRequest(`resource: ${g.action} grants name one credential type, not a pattern`, { field: 'resource' });
    if (!index.types.has(g.resource)) throw notFound('unknown-resource', `Credential type ${g.resource} is not registered.`);
    if (g.constraints.actions || g.constraints.max_depth !== undefined) throw badRequest('constraints: actions and max_depth belong to accredit grants', { field: 'constraints' });
    if (g.action === 'issue' && (g.constraints.claims || g.constraints.purpose)) throw badRequest('constraints: claims and purpose belong to verify grants', { field: 'constraints' });
  }
  if (g.valid_until !== null && Date.parse(g.valid_until) <= Date.parse(g.valid_from)) throw badRequest('valid_until must be after valid_from', { field: 'valid_until' });
}

export async function createGrant(registry: Registry, actor: string, body: unknown): Promise<Grant> {
  const input = parseOrThrow(zCreateGrant, body);
  const now = registry.clock();
  // The grant row's created_at (toIso(now)): whole seconds, like valid_from.
  const recordedAt = wholeSeconds(now);
  const correction = input.correction;
  let grant: Grant;
  if ('statement' in input) {
    const index = await registry.index();
    let g: GrantBody;
    try {
      const authorityId = peekIss(input.statement);
      g = await verifyGrantStatement(input.statement, index.entities.get(authorityId) ?? rootEntity(index, authorityId, registry), registry.deps.resolver);
    } catch (e) {
      if (e instanceof StatementError) {
        if (e.kind === 'malformed') throw badRequest(e.message, { field: 'statement' });
        throw forbidden('statement-not-verified', `The statement's signature does not verify: ${e.message}.`);
      }
      throw e;
    }
    // Issue 18: a signed nbf before the recording time is a backdated grant; it stays as signed.
    effectiveTime({ field: 'statement', what: `the statement's nbf (${g.valid_from})`, requested: Date.parse(g.valid_from), recordedAt, correction, fixed: true });
    grant = { ...g, statement: input.statement, history: [] };
  } else {
    const authority = input.authority_id ?? registry.deps.rootAuthority;
    const signer = registry.deps.hosted.get(authority)?.signer;
    if (!signer) throw forbidden('authority-key-not-held', `The registry holds no key of ${authority}; submit a statement the authority signed.`);
    // Whole seconds: the statement carries nbf/exp as NumericDate. Issue 18: not before it is recorded.
    const validFrom = effectiveTime({
      field: 'valid_from',
      what: `valid_from (${input.valid_from})`,
      requested: input.valid_from ? wholeSeconds(Date.parse(input.valid_from)) : recordedAt,
      recordedAt,
      correction,
    });
    const body: GrantBody = {
      id: randomUUID(),
      authority_id: authority,
      entity_id: input.entity_id,
      action: input.action,
      resource: input.resource,
      valid_from: toIso(validFrom),
      valid_until: input.valid_until ? toIso(wholeSeconds(Date.parse(input.valid_until))) : null,
      constraints: input.constraints,
    };
    grant = { ...body, statement: await signGrant(signer, body, now), history: [] };
  }

  return registry.write(
    (g) => ({
      actor,
      action: 'grant.create',
      target: g.id,
      details: {
        authority_id: g.authority_id,
        entity_id: g.entity_id,
        action: g.action,
        resource: g.resource,
        valid_from: g.valid_from,
        valid_until: g.valid_until,
        constraints: g.constraints,
        ...(correction ? { correction: { reason: correction.reason } } : {}),
      },
    }),
    async (m, index) => {
      checkShape(index, grant);
      if (index.state.grants.some((x) => x.id === grant.id)) throw conflict('grant-exists', `Grant ${grant.id} already exists.`);
      const refusal = delegationRefusal(index, grant, now);
      if (refusal) throw forbidden('exceeds-delegation', `Refused: ${refusal}.`);
      await registry.deps.store.insertGrant(m, grant, toIso(now), correction?.reason ?? null);
      return grant;
    },
  );
}

function peekIss(jws: string): string {
  try {
    const payload = JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString('utf8')) as { iss?: unknown };
    if (typeof payload.iss === 'string') return payload.iss;
  } catch {
    /* fall through */
  }
  throw new ProblemError({ status: 400, code: 'invalid-request', title: 'Invalid request', detail: 'statement: payload has no iss', extra: { field: 'statement' } });
}

/** The root authority is not an entity row; give the statement check its hosted key. */
function rootEntity(index: TrustIndex, id: string, registry: Registry) {
  if (id !== index.root) return undefined;
  const hosted = registry.deps.hosted.get(id);
  return { id, kind: 'authority' as const, name: { de: '', en: '' }, ...(hosted ? { jwks: [hosted.signer.publicJwk] } : {}) };
}
