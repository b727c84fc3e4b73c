import { Router } from 'express';
import { z } from 'zod';
import { noStore, requireJson } from '../../core/http/app.ts';
import { authorize, scopeParam, type AdminAccess } from '../../core/http/admin-auth.ts';
import { conflict, notFound } from '../../core/http/errors.ts';
import { parseOrThrow } from '../../core/http/validate.ts';
import type { IssuerDeps, Office } from '../deps.ts';
import { publicListUri, suspendable } from '../status-lists.ts';
import type { CredentialRow, CredentialStatus } from '../store/schema.ts';
import { deskState, setOfferCredentialsStatus } from '../store/offer-status.ts';

/** A credential's status reference: the URI of its own list (list 1, 2, …) and its index there. */
const statusRef = (o: Office, c: CredentialRow) => ({ uri: publicListUri(o, c), idx: c.status_idx });
import QRCode from 'qrcode';
import type { HostedIdentities } from '../../core/service/did-host.ts';
import { keyView, revokeKey, rotateKey } from '../office-keys.ts';
import type { AuditAnchor } from '../../core/audit/audit-anchor.ts';
import { offerUri } from '../use-cases/create-offer.ts';

const zId = z.string().regex(/^[0-9a-f-]{36}$/, 'must be an id');
const zStatus = z.strictObject({ status: z.enum(['revoked', 'suspended', 'valid']) });

/**
 * The rules of a status change, the same for one credential and for all copies of an offer: a
 * problem, or undefined when the change is allowed.
 */
function statusRefusal(c: Pick<CredentialRow, 'status' | 'format'>, status: CredentialStatus) {
  // Token Status List: INVALID is final (revocation cannot be undone).
  if (c.status === 'revoked' && status !== 'revoked') return conflict('credential-revoked', 'Der Nachweis ist widerrufen; ein Widerruf ist endgültig. / The credential is revoked; revocation is final.');
  // A VC-JWT (VCDM 1.1) carries one status entry, for revocation (issuer/status-lists.ts vcJwtStatusEntry): it cannot be suspended.
  if (status === 'suspended' && !suspendable(c.format)) {
    return conflict('status-not-supported', 'Ein Nachweis im Format jwt_vc_json (VC-JWT) kann nicht gesperrt werden, nur widerrufen; nichts wurde geändert. / A jwt_vc_json (VC-JWT) credential cannot be suspended, only revoked; nothing was changed.');
  }
  return undefined;
}

/** Office scope of a route (`office:<slug>`): clerks offer and read, administrators change status and keys. */
const clerk = authorize({ role: 'clerk', scope: scopeParam('office') });
const administrator = authorize({ role: 'administrator', scope: scopeParam('office') });
/** The audit trail spans all offices: only a key for every office (`*`) reads it. */
const auditor = authorize({ role: 'administrator', scope: 'global' });

/** Clerk and administrator API per office (docs/contract.md, Issuer), behind the bearer token or an API key. */
export function adminRoutes(deps: IssuerDeps, access: AdminAccess, hosted: HostedIdentities, anchor: AuditAnchor): Router {
  const r = Router();
  r.use('/api', access.authenticate, noStore);
  const office = (slug: unknown): Office => {
    const o = deps.offices.get(String(slug));
    if (!o) throw notFound('unknown-office', `No office ${String(slug)}.`);
    return o;
  };

  // POST /api/offices/:slug/offers is on the fast lane (issuer/routes/create-offer.ts).

  r.get('/api/offices/:slug/offers/:id', clerk, async (req, res) => {
    const o = office(req.params.slug);
    const id = parseOrThrow(zId, req.params.id, { what: 'path' });
    const row = await deps.store.getOffer(o.slug, id);
    if (!row) throw notFound('unknown-offer', `No offer ${id} at ${o.slug}.`);
    const credentials = await deps.store.credentialsOf(row.id);
    const open = row.state === 'token_issued' || row.state === 'deferred';
    const status = row.state === 'issued' ? 'issued' : row.state === 'locked' || (!open && row.expires_at <= deps.clock()) ? 'expired' : 'pending';
    res.json({
      offer_id: row.id,
      status,
      // What the clerk's desk shows (issuer/store/offer-status.ts); an addition to `status`.
      state: deskState(row, deps.clock()),
      ...(row.state === 'locked' ? { locked: true } : {}),
      credential_configuration_id: row.configuration_id,
      approval: row.approval,
      ...(row.approval === 'manual' ? { approved: row.approved_at !== null } : {}),
      expires_at: new Date(row.expires_at).toISOString(),
      credentials: credentials.map((c) => ({ credential_id: c.id, format: c.format, status: c.status, status_list: statusRef(o, c) })),
    });
  });

  r.get('/api/offices/:slug/offers/:id/qr.svg', clerk, async (req, res) => {
    const o = office(req.params.slug);
    const id = parseOrThrow(zId, req.params.id, { what: 'path' });
    const row = await deps.store.getOffer(o.slug, id);
    if (!row) throw notFound('unknown-offer', `No offer ${id} at ${o.slug}.`);
    const link = `openid-credential-offer://?credential_offer_uri=${encodeURIComponent(offerUri(o, id))}`;
    if (req.query.format === 'png') {
      res.type('image/png').send(await QRCode.toBuffer(link, { errorCorrectionLevel: 'M', margin: 2, width: 360 }));
      return;
    }
    res.type('image/svg+xml').send(await QRCode.toString(link, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 }));
  });

  // Deferred issuance: a clerk approves an offer created with "approval": "manual".
  r.post('/api/offices/:slug/offers/:id/approve', clerk, async (req, res) => {
    const o = office(req.params.slug);
    const id = parseOrThrow(zId, req.params.id, { what: 'path' });
    const row = await deps.store.getOffer(o.slug, id);
    if (!row) throw notFound('unknown-offer', `No offer ${id} at ${o.slug}.`);
    if (row.approval !== 'manual') throw conflict('approval-not-required', 'This offer does not need approval.');
    if (!(await deps.store.approve(o.slug, id, new Date(deps.clock()).toISOString()))) throw conflict('already-approved', 'This offer is already approved.');
    await deps.store.audit({ at: new Date(deps.clock()).toISOString(), actor: String(res.locals.actor), action: 'offer.approve', target: id, details: { office: o.slug } });
    deps.logger.info({ office: o.slug, offer: id }, 'offer approved');
    res.json({ offer_id: id, approved: true });
  });

  r.post('/api/offices/:slug/credentials/:id/status', administrator, requireJson, async (req, res) => {
    const o = office(req.params.slug);
    const id = parseOrThrow(zId, req.params.id, { what: 'path' });
    const { status } = parseOrThrow(zStatus, req.body);
    const c = await deps.store.getCredential(o.slug, id);
    if (!c) throw notFound('unknown-credential', `No credential ${id} at ${o.slug}.`);
    const refused = statusRefusal(c, status);
    if (refused) throw refused;
    await deps.store.setCredentialStatus(o.slug, id, status, { at: new Date(deps.clock()).toISOString(), actor: String(res.locals.actor), action: 'credential.status', target: id, details: { office: o.slug, from: c.status, to: status } });
    deps.logger.info({ office: o.slug, credential: id, status }, 'credential status changed');
    res.json({ credential_id: id, status, status_list: statusRef(o, c) });
  });

  // All copies of what one offer issued (batch issuance, OID4VCI 1.0 §8.2 `proofs`): one status
  // for all, in one transaction, one audit entry per copy; any refusal leaves every copy unchanged.
  r.post('/api/offices/:slug/offers/:id/status', administrator, requireJson, async (req, res) => {
    const o = office(req.params.slug);
    const id = parseOrThrow(zId, req.params.id, { what: 'path' });
    const { status } = parseOrThrow(zStatus, req.body);
    const row = await deps.store.getOffer(o.slug, id);
    if (!row) throw notFound('unknown-offer', `No offer ${id} at ${o.slug}.`);
    const at = new Date(deps.clock()).toISOString();
    const actor = String(res.locals.actor);
    const done = await setOfferCredentialsStatus(
      deps.store,
      o.slug,
      id,
      status,
      (copies) => copies.map((c) => statusRefusal(c, status)).find((p) => p !== undefined),
      (c) => ({ at, actor, action: 'credential.status', target: c.id, details: { office: o.slug, offer: id, from: c.status, to: status } }),
    );
    if (!done) throw conflict('offer-not-issued', 'Für dieses Angebot wurde noch nichts ausgestellt. / Nothing has been issued for this offer yet.');
    deps.logger.info({ office: o.slug, offer: id, status, copies: done.credentials.length, changed: done.changed.length }, 'offer credentials status changed');
    res.json({
      offer_id: id,
      status,
      changed: done.changed.length,
      credentials: done.credentials.map((c) => ({ credential_id: c.id, format: c.format, status: c.status, status_list: statusRef(o, c) })),
    });
  });

  // Key rotation and revocation as compromised (effective time may lie in the past).
  r.get('/api/offices/:slug/keys', administrator, async (req, res) => {
    res.json(await keyView(deps, office(req.params.slug)));
  });
  r.post('/api/offices/:slug/keys/rotate', administrator, async (req, res) => {
    res.status(201).json(await rotateKey(deps, hosted, office(req.params.slug), String(res.locals.actor)));
  });
  r.post('/api/offices/:slug/keys/:fragment/revoke', administrator, requireJson, async (req, res) => {
    const o = office(req.params.slug);
    const fragment = parseOrThrow(z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be a key thumbprint'), req.params.fragment, { what: 'path' });
    const body = parseOrThrow(z.strictObject({ reason: z.string().trim().min(3).max(500), effective_at: z.iso.datetime({ offset: false }).optional() }), req.body);
    res.json(await revokeKey(deps, hosted, o, fragment, body.effective_at ?? new Date(deps.clock()).toISOString(), body.reason, String(res.locals.actor)));
  });

  r.get('/api/audit', auditor, async (_req, res) => {
    res.json({ entries: await deps.store.auditEntries() });
  });
  // The chain, and the chain against its signed checkpoints (core/audit/audit-anchor.ts).
  r.get('/api/audit/check', auditor, async (_req, res) => {
    res.json(await anchor.check());
  });
  return r;
}
