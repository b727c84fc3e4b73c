import { Router } from 'express';
import { publicCors } from '../http/app.ts';
import { notFound } from '../http/errors.ts';
import type { AuditAnchor } from './audit-anchor.ts';

/**
 * Public anchors of a service's audit trail, for outside parties to keep: the audit key as a
 * did:web document (`/audit/did.json`, did:web method §3.2) and the latest signed checkpoint
 * (`/audit/checkpoints/latest`, a compact JWS). A checkpoint holds a hash, a count and a time, no
 * entry, so it says nothing about who did what.
 */
export function auditAnchorRoutes(anchor: AuditAnchor): Router {
  const r = Router();
  r.get('/audit/did.json', publicCors, (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.type('application/did+json').send(JSON.stringify(anchor.identity.document()));
  });
  r.get('/audit/checkpoints/latest', publicCors, async (_req, res) => {
    const jws = await anchor.latest();
    if (!jws) throw notFound('no-checkpoint', 'No audit checkpoint has been written yet.');
    res.setHeader('Cache-Control', 'no-cache');
    res.type('application/jwt').send(jws);
  });
  return r;
}
