import { Router } from 'express';
import { authorize, type AdminAccess } from '../../core/http/admin-auth.ts';
import { noStore, requireJson } from '../../core/http/app.ts';
import type { VerifierDeps } from '../deps.ts';
import { putCredentialType, putRelyingParty } from './apply.ts';

/** Clerks of any counter read the catalogue; only an administrator with scope `*` changes it. */
const reader = authorize({ role: 'clerk', scope: 'any' });
const administrator = authorize({ role: 'administrator', scope: 'global' });

/**
 * The verifier's catalogue API (issue 15): credential type display definitions and relying parties
 * with their templates. RFC 9457 problem+json errors (`urn:id-ideal:problem:*`). A PUT answers 201
 * when it created the item, 200 otherwise, with `changed` false for an identical body (no audit
 * entry, no revision bump).
 */
export function catalogRoutes(deps: VerifierDeps, access: AdminAccess): Router {
  const r = Router();
  r.use('/api/catalog', access.authenticate, noStore);
  const actor = (res: { locals: Record<string, unknown> }) => String(res.locals.actor);

  r.get('/api/catalog', reader, async (_req, res) => {
    await deps.catalog.refresh();
    res.json({
      revision: deps.catalog.revision,
      credential_types: [...deps.catalog.types.values()].sort((a, b) => a.id.localeCompare(b.id)),
      relying_parties: [...deps.rps.values()].map((rp) => rp.def).sort((a, b) => a.slug.localeCompare(b.slug)),
    });
  });

  r.put('/api/catalog/credential-types/:id', administrator, requireJson, async (req, res) => {
    const out = await putCredentialType(deps, String(req.params.id), req.body, actor(res));
    res.status(out.created ? 201 : 200).json(out);
  });

  r.put('/api/catalog/relying-parties/:slug', administrator, requireJson, async (req, res) => {
    const out = await putRelyingParty(deps, String(req.params.slug), req.body, actor(res));
    res.status(out.created ? 201 : 200).json(out);
  });
  return r;
}
