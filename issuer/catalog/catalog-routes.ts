import { Router, type RequestHandler } from 'express';
import { authorize, type AdminAccess } from '../../core/http/admin-auth.ts';
import { noStore, requireJson } from '../../core/http/app.ts';
import { putCredentialType, putOffice, type CatalogContext } from './catalog-changes.ts';

/**
 * The catalogue's admin API (issue 15; RFC 9457 problems with `urn:id-ideal:problem:*` types):
 * - `GET /api/catalog`: revision, credential types and offices (any key of this issuer; nothing in it is secret);
 * - `PUT /api/catalog/credential-types/{id}` and `PUT /api/catalog/offices/{slug}`: an administrator
 *   key for every office (`*`). `201` when created, `200` when changed or unchanged; the body says
 *   `changed` and the revision. An identical PUT changes nothing (no audit entry, no revision).
 */
export function catalogRoutes(ctx: CatalogContext, access: AdminAccess): Router {
  const r = Router();
  const reader: RequestHandler[] = [access.authenticate, noStore, authorize({ role: 'clerk', scope: 'any' })];
  const writer: RequestHandler[] = [access.authenticate, noStore, authorize({ role: 'administrator', scope: 'global' }), requireJson];

  r.get('/api/catalog', ...reader, (_req, res) => {
    res.json(ctx.catalog.view());
  });
  r.put('/api/catalog/credential-types/:id', ...writer, async (req, res) => {
    const out = await putCredentialType(ctx, String(req.params.id), req.body, String(res.locals.actor));
    if (out.created) res.status(201).location(`/api/catalog/credential-types/${out.definition.id}`);
    res.json({ changed: out.changed, revision: out.revision, credential_type: out.definition });
  });
  r.put('/api/catalog/offices/:slug', ...writer, async (req, res) => {
    const out = await putOffice(ctx, String(req.params.slug), req.body, String(res.locals.actor));
    if (out.created) res.status(201).location(`/api/catalog/offices/${out.definition.slug}`);
    res.json({ changed: out.changed, revision: out.revision, office: out.definition });
  });
  return r;
}
