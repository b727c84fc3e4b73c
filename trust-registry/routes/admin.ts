import { Router } from 'express';
import { z } from 'zod';
import { noStore, requireJson } from '../../core/http/app.ts';
import { authorize, type AdminAccess } from '../../core/http/admin-auth.ts';
import { notFound } from '../../core/http/errors.ts';
import { parseOrThrow, zDid } from '../../core/http/validate.ts';
import { statusAt } from '../../core/trust/evaluate.ts';
import type { Grant } from '../../core/trust/model.ts';
import { checkChain } from '../../core/audit/audit-chain.ts';
import type { AuthorityKeys } from '../authority-keys.ts';
import type { Registry } from '../registry.ts';
import type { GrantRecord } from '../store/registry-store.ts';
import { changeGrantStatus } from '../use-cases/change-grant-status.ts';
import { createCredentialType } from '../use-cases/create-credential-type.ts';
import { createEntity } from '../use-cases/create-entity.ts';
import { createGrant } from '../use-cases/create-grant.ts';
import { putCredentialType } from '../use-cases/put-credential-type.ts';

const zGrantFilter = z.strictObject({
  entity_id: zDid.optional(),
  authority_id: zDid.optional(),
  action: z.string().max(64).optional(),
  resource: z.string().max(512).optional(),
});

/** A credential type's id in the catalogue (core/catalog/model.ts). */
const zTypeId = z.string().regex(/^[a-z][a-z0-9_]{1,62}$/, 'must be a credential type id: lower-case letters, digits and underscores');

const zGrantId = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, 'must be a grant id');

/**
 * Grant as the admin API shows it: its current status next to its append-only history, with when the
 * grant was recorded and, for corrections (issue 18), why it or a status change takes effect before
 * it was recorded.
 */
export function grantView(g: Grant, now: number, record: GrantRecord | undefined) {
  return {
    ...g,
    history: g.history.map((e, i) => {
      const correction = record?.history[i]?.correction;
      return correction ? { ...e, correction: { reason: correction } } : e;
    }),
    status: statusAt(g, now).status,
    ...(record ? { recorded_at: record.recorded_at } : {}),
    ...(record?.correction ? { correction: { reason: record.correction } } : {}),
  };
}

/** Registry keys have the one scope `*`: clerks read, administrators write (entities, credential types, grants). */
const reader = authorize({ role: 'clerk', scope: 'any' });
const administrator = authorize({ role: 'administrator', scope: 'any' });
/** Catalogue writes (issue 15): an administrator of every scope, as on the issuer and the verifier. */
const catalogAdministrator = authorize({ role: 'administrator', scope: 'global' });

/** Admin API (docs/contract.md, Trust registry), behind the bearer token or an API key. Every write is audited by Registry.write. */
export function adminRoutes(registry: Registry, access: AdminAccess, authorityKeys?: AuthorityKeys): Router {
  const r = Router();
  r.use('/api', access.authenticate, noStore);
  const actor = (res: { locals: Record<string, unknown> }) => String(res.locals.actor);

  r.post('/api/entities', administrator, requireJson, async (req, res) => {
    res.status(201).json(await createEntity(registry, actor(res), req.body, authorityKeys ? { authorityKeys } : {}));
  });
  r.get('/api/entities', reader, async (_req, res) => {
    res.json({ entities: (await registry.index()).state.entities });
  });

  r.post('/api/credential-types', administrator, requireJson, async (req, res) => {
    res.status(201).json(await createCredentialType(registry, actor(res), req.body));
  });
  r.get('/api/credential-types', reader, async (_req, res) => {
    res.json({ credential_types: (await registry.index()).state.credential_types });
  });

  // The city's catalogue (issue 15): credential types with their full definitions. The registry's
  // part of a city file is otherwise entities and grants (the routes above and below).
  r.get('/api/catalog', reader, async (_req, res) => {
    const store = registry.deps.store;
    res.json({ revision: await store.typeDefinitionRevision(), credential_types: [...(await store.typeDefinitions()).values()] });
  });
  r.put('/api/catalog/credential-types/:id', catalogAdministrator, requireJson, async (req, res) => {
    const id = parseOrThrow(zTypeId, req.params.id, { what: 'path' });
    const result = await putCredentialType(registry, actor(res), id, req.body);
    res.status(result.created ? 201 : 200).json({ created: result.created, changed: result.changed, revision: result.revision, credential_type: result.credential_type });
  });

  r.post('/api/grants', administrator, requireJson, async (req, res) => {
    // A department another registry instance created: load its key before the grant is signed.
    const authority = (req.body as { authority_id?: unknown } | undefined)?.authority_id;
    if (authorityKeys && typeof authority === 'string' && authority.length <= 512) await authorityKeys.lookup(authority);
    const g = await createGrant(registry, actor(res), req.body);
    res.status(201).location(`/api/grants/${g.id}`).json(grantView(g, registry.clock(), (await registry.view()).records.get(g.id)));
  });
  r.get('/api/grants', reader, async (req, res) => {
    const f = parseOrThrow(zGrantFilter, req.query, { what: 'query' });
    const now = registry.clock();
    const { index, records } = await registry.view();
    const grants = index.state.grants.filter(
      (g) =>
        (f.entity_id === undefined || g.entity_id === f.entity_id) &&
        (f.authority_id === undefined || g.authority_id === f.authority_id) &&
        (f.action === undefined || g.action === f.action) &&
        (f.resource === undefined || g.resource === f.resource),
    );
    res.json({ grants: grants.map((g) => grantView(g, now, records.get(g.id))) });
  });
  r.get('/api/grants/:id', reader, async (req, res) => {
    const id = parseOrThrow(zGrantId, req.params.id, { what: 'path' });
    const { index, records } = await registry.view();
    const g = index.state.grants.find((x) => x.id === id);
    if (!g) throw notFound('unknown-grant', `Grant ${id} does not exist.`);
    res.json(grantView(g, registry.clock(), records.get(id)));
  });
  r.post('/api/grants/:id/status', administrator, requireJson, async (req, res) => {
    const id = parseOrThrow(zGrantId, req.params.id, { what: 'path' });
    const g = await changeGrantStatus(registry, actor(res), id, req.body);
    res.json(grantView(g, registry.clock(), (await registry.view()).records.get(id)));
  });

  r.get('/api/audit', administrator, async (_req, res) => {
    res.json({ entries: await registry.auditEntries() });
  });
  r.get('/api/audit/check', administrator, async (_req, res) => {
    const snapshot = await registry.latestSnapshot();
    const head = JSON.parse(Buffer.from(snapshot.jws.split('.')[1]!, 'base64url').toString('utf8')).audit_head as { seq: number; hash: string };
    const problems = checkChain(await registry.auditEntries(), head);
    res.json({ valid: problems.length === 0, problems });
  });

  return r;
}
