import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AuditLog } from '../../core/access/api-key-store.ts';
import { actorOf, adminHook, scopeParam, type AdminAccess } from '../../core/http/admin-auth.ts';
import { notFound } from '../../core/http/errors.ts';
import { requireJsonBody } from '../../core/http/fast-lane.ts';
import { parseOrThrow } from '../../core/http/validate.ts';
import type { RelyingParty, VerifierDeps } from '../deps.ts';
import { createRequest } from '../use-cases/create-request.ts';
import { describeAttempt, parseAttempt } from '../last-attempt.ts';
import type { Verdict, VerdictError } from '../verdict.ts';

const zId = z.string().regex(/^[0-9a-f-]{36}$/, 'must be an id');

/**
 * The counter's two calls of every verification (docs/contract.md, Verifier): create a request, read
 * its verdict. On the fast lane (core/http/fast-lane.ts) beside the OID4VP routes; the rest of the
 * counter API is verifier/routes/admin.ts. Clerks of the relying party (`verifier:<slug>`) only.
 */
export function requestRoutes(r: FastifyInstance, deps: VerifierDeps, access: AdminAccess, audit: AuditLog): void {
  const clerk = { onRequest: adminHook(access, { role: 'clerk', scope: scopeParam('verifier') }) };
  const rp = (slug: unknown): RelyingParty => {
    const x = deps.rps.get(String(slug));
    if (!x) throw notFound('unknown-verifier', `No relying party ${String(slug)}.`);
    return x;
  };

  r.post<{ Params: { slug: string } }>('/api/verifiers/:slug/requests', { ...clerk, preValidation: requireJsonBody }, async (req, reply) => {
    const p = rp(req.params.slug);
    const actor = actorOf(req);
    // Audited without the query's claims: which counter, which template, when, by whom; atomically
    // with storing the request (one commit instead of two, and never one without the other).
    const created = await createRequest(deps, p, req.body, {
      record: { log: audit, entry: (id) => ({ at: new Date(deps.clock()).toISOString(), actor, action: 'request.create', target: id, details: { verifier: p.slug, template: (req.body as { template?: unknown }).template ?? null } }) },
    });
    reply.code(201).header('Location', `/api/verifiers/${p.slug}/requests/${created.request_id}`);
    return created;
  });

  r.get<{ Params: { slug: string; id: string } }>('/api/verifiers/:slug/requests/:id', clerk, async (req) => {
    const p = rp(req.params.slug);
    const id = parseOrThrow(zId, req.params.id, { what: 'path' });
    const row = await deps.store.getRequest(p.slug, id);
    const now = deps.clock();
    // Retention: a verdict past VERIFIER_RESULT_TTL is gone, whether or not the purge timer ran yet.
    if (row && row.result_expires_at !== null && row.result_expires_at <= now) await deps.store.purge(now);
    if (!row || (row.result_expires_at !== null && row.result_expires_at <= now)) throw notFound('unknown-request', `No request ${id} at ${p.slug} (or its result has been deleted).`);
    if (row.status === 'verified' || row.status === 'rejected') {
      const v = JSON.parse(deps.sealer.open(row.result_sealed!, row.id)) as Verdict;
      return {
        request_id: row.id,
        status: row.status,
        result: {
          verified: v.verified,
          errors: v.errors,
          warnings: v.warnings,
          credentials: v.credentials.map((c) => ({ credential_query_id: c.credential_query_id, vct: c.vct, issuer: c.issuer, issuer_name: c.issuer_name?.de ?? null, issuer_name_i18n: c.issuer_name, claims: c.claims })),
        },
      };
    }
    // A response taken but never finished (the process died while verifying it) does not stay
    // "pending" for ever: a minute after the request's expiry it reads as expired, like an unanswered one.
    const expired = row.status === 'pending' ? row.expires_at <= now : row.expires_at + 60_000 <= now;
    // An answer that did not verify is a hint, never a verdict (verifier/last-attempt.ts): fixed codes, our text.
    // docs/contract.md promises `rejected` with the reasons for an answer that failed; it is reported
    // so, marked `final: false`, and the request still takes a verifying response until it expires.
    const attempt = parseAttempt(row.last_attempt);
    if (!attempt) return { request_id: row.id, status: expired ? 'expired' : 'pending' };
    const last_attempt = describeAttempt(attempt);
    if (expired) return { request_id: row.id, status: 'expired', last_attempt };
    const errors = attempt.kind === 'wallet_error' ? [{ code: 'declined', message: last_attempt.message as string }] : (last_attempt.errors as VerdictError[]);
    return { request_id: row.id, status: 'rejected', final: false, result: { verified: false, errors, warnings: [], credentials: [] }, last_attempt };
  });
}
