import { Router } from 'express';
import { z } from 'zod';
import { noStore, requireJson } from '../../core/http/app.ts';
import type { AuditLog } from '../../core/access/api-key-store.ts';
import type { AuditAnchor } from '../../core/audit/audit-anchor.ts';
import { authorize, scopeParam, type AdminAccess } from '../../core/http/admin-auth.ts';
import { notFound } from '../../core/http/errors.ts';
import { parseOrThrow } from '../../core/http/validate.ts';
import type { RelyingParty, VerifierDeps } from '../deps.ts';
import QRCode from 'qrcode';
import { createRequest, requestUri } from '../use-cases/create-request.ts';
import { describeAttempt, parseAttempt } from '../last-attempt.ts';
import type { Verdict, VerdictError } from '../verdict.ts';

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

  r.post('/api/verifiers/:slug/requests', clerk, requireJson, async (req, res) => {
    const p = rp(req.params.slug);
    // Audited without the query's claims: which counter, which template, when, by whom; atomically
    // with storing the request (one commit instead of two, and never one without the other).
    const created = await createRequest(deps, p, req.body, {
      record: { log: audit, entry: (id) => ({ at: new Date(deps.clock()).toISOString(), actor: String(res.locals.actor), action: 'request.create', target: id, details: { verifier: p.slug, template: (req.body as { template?: unknown }).template ?? null } }) },
    });
    res.status(201).location(`/api/verifiers/${p.slug}/requests/${created.request_id}`).json(created);
  });

  r.get('/api/verifiers/:slug/requests/:id/qr.svg', clerk, async (req, res) => {
    const p = rp(req.params.slug);
    const id = parseOrThrow(zId, req.params.id, { what: 'path' });
    const row = await deps.store.getRequest(p.slug, id);
    if (!row) throw notFound('unknown-request', `No request ${id} at ${p.slug}.`);
    const link = `openid4vp://?client_id=${encodeURIComponent(p.clientId)}&request_uri=${encodeURIComponent(requestUri(deps, p, id))}`;
    res.type('image/svg+xml').send(await QRCode.toString(link, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 }));
  });

  r.get('/api/verifiers/:slug/requests/:id', clerk, async (req, res) => {
    const p = rp(req.params.slug);
    const id = parseOrThrow(zId, req.params.id, { what: 'path' });
    const row = await deps.store.getRequest(p.slug, id);
    const now = deps.clock();
    // Retention: a verdict past VERIFIER_RESULT_TTL is gone, whether or not the purge timer ran yet.
    if (row && row.result_expires_at !== null && row.result_expires_at <= now) await deps.store.purge(now);
    if (!row || (row.result_expires_at !== null && row.result_expires_at <= now)) throw notFound('unknown-request', `No request ${id} at ${p.slug} (or its result has been deleted).`);
    if (row.status === 'verified' || row.status === 'rejected') {
      const v = JSON.parse(deps.sealer.open(row.result_sealed!, row.id)) as Verdict;
      res.json({
        request_id: row.id,
        status: row.status,
        result: {
          verified: v.verified,
          errors: v.errors,
          warnings: v.warnings,
          credentials: v.credentials.map((c) => ({ credential_query_id: c.credential_query_id, vct: c.vct, issuer: c.issuer, issuer_name: c.issuer_name?.de ?? null, issuer_name_i18n: c.issuer_name, claims: c.claims })),
        },
      });
      return;
    }
    // A response taken but never finished (the process died while verifying it) does not stay
    // "pending" for ever: a minute after the request's expiry it reads as expired, like an unanswered one.
    const expired = row.status === 'pending' ? row.expires_at <= now : row.expires_at + 60_000 <= now;
    // An answer that did not verify is a hint, never a verdict (verifier/last-attempt.ts): fixed codes, our text.
    // docs/contract.md promises `rejected` with the reasons for an answer that failed; it is reported
    // so, marked `final: false`, and the request still takes a verifying response until it expires.
    const attempt = parseAttempt(row.last_attempt);
    if (!attempt) {
      res.json({ request_id: row.id, status: expired ? 'expired' : 'pending' });
      return;
    }
    const last_attempt = describeAttempt(attempt);
    if (expired) {
      res.json({ request_id: row.id, status: 'expired', last_attempt });
      return;
    }
    const errors = attempt.kind === 'wallet_error' ? [{ code: 'declined', message: last_attempt.message as string }] : (last_attempt.errors as VerdictError[]);
    res.json({ request_id: row.id, status: 'rejected', final: false, result: { verified: false, errors, warnings: [], credentials: [] }, last_attempt });
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
