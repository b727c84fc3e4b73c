import { Router } from 'express';
import { z } from 'zod';
import { noStore } from '../../core/http/app.ts';
import type { AuditLog } from '../../core/access/api-key-store.ts';
import type { AuditAnchor } from '../../core/audit/audit-anchor.ts';
import { authorize, scopeParam, type AdminAccess } from '../../core/http/admin-auth.ts';
import { notFound } from '../../core/http/errors.ts';
import { parseOrThrow } from '../../core/http/validate.ts';
import type { RelyingParty, VerifierDeps } from '../deps.ts';
import QRCode from 'qrcode';
import { requestUri } from '../use-cases/create-request.ts';

const zId = z.string().regex(/^[0-9a-f-]{36}$/, 'must be an id');

/** Clerks of a relying party (`verifier:<slug>`) ask and read verdicts; the audit trail needs a key for every scope. */
const clerk = authorize({ role: 'clerk', scope: scopeParam('verifier') });
const auditor = authorize({ role: 'administrator', scope: 'global' });

/** Counter API per relying party (docs/contract.md, Verifier), behind the bearer token or an API key; admin actions are audited. */
export function adminRoutes(deps: VerifierDeps, access: AdminAccess, audit: AuditLog, anchor: AuditAnchor): Router {
  const r = Router();
  r.use('/api', access.authenticate, noStore);
  const rp = (slug: unknown): RelyingParty => {
    const x = deps.rps.get(String(slug));
    if (!x) throw notFound('unknown-verifier', `No relying party ${String(slug)}.`);
    return x;
  };

  // POST /api/verifiers/:slug/requests and GET /api/verifiers/:slug/requests/:id are on the fast lane (verifier/routes/requests.ts).

  r.get('/api/verifiers/:slug/requests/:id/qr.svg', clerk, async (req, res) => {
    const p = rp(req.params.slug);
    const id = parseOrThrow(zId, req.params.id, { what: 'path' });
    const row = await deps.store.getRequest(p.slug, id);
    if (!row) throw notFound('unknown-request', `No request ${id} at ${p.slug}.`);
    const link = `openid4vp://?client_id=${encodeURIComponent(p.clientId)}&request_uri=${encodeURIComponent(requestUri(deps, p, id))}`;
    res.type('image/svg+xml').send(await QRCode.toString(link, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 }));
  });

  r.get('/api/audit', auditor, async (_req, res) => {
    res.json({ entries: await audit.entries() });
  });
  // The chain, and the chain against its signed checkpoints (core/audit/audit-anchor.ts).
  r.get('/api/audit/check', auditor, async (_req, res) => {
    res.json(await anchor.check());
  });
  return r;
}
