import { Router } from 'express';
import { z } from 'zod';
import { noStore, requireJson } from '../../core/http/app.ts';
import { authorize, type AdminAccess } from '../../core/http/admin-auth.ts';
import { notFound } from '../../core/http/errors.ts';
import { parseOrThrow, zDid } from '../../core/http/validate.ts';
import { statusAt } from '../../core/trust/evaluate.ts';
import type { Grant } from '../../core/trust/model.ts';
import { checkChain } from '../../core/audit/audit-chain.ts';
import type { Registry } from '../registry.ts';
import type { GrantRecord } from '../store/registry-store.ts';
import { changeGrantStatus } from '../use-cases/change-grant-status.ts';
import { createCredentialType } from '../use-cases/create-credential-type.ts';
import { createEntity } from '../use-cases/create-entity.ts';
import { createGrant } from '../use-cases/create-grant.ts';

const zGrantFilter = z.strictObject({
  entity_id: zDid.optional(),
  authority_id: zDid.optional(),
  action: z.string().max(64).optional(),
  resource: z.string().max(512).optional(),
});

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

/** Admin API (docs/contract.md, Trust registry), behind the bearer token or an API key. Every write is audited by Registry.write. */
export function adminRoutes(registry: Registry, access: AdminAccess): Router {
  const r = Router();
  r.use('/api', access.authenticate, noStore);
  const actor = (res: { locals: Record<string, unknown> }) => String(res.locals.actor);

  r.post('/api/entities', administrator, requireJson, async (req, res) => {
    res.status(201).json(await createEntity(registry, actor(res), req.body));
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

  r.post('/api/grants', administrator, requireJson, async (req, res) => {
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
