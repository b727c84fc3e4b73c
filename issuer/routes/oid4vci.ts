import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { preAuthorizedCodeGrantIdentifier, type RequestLike } from '@openid4vc/oauth2';
import type { IssuerMetadataResult } from '@openid4vc/openid4vci';
import { notFound } from '../../core/http/errors.ts';
import { setErrorStyle } from '../../core/http/error-exit.ts';
import type { IssuerDeps, Office } from '../deps.ts';
import { authorizationServerMetadata } from '../metadata.ts';
import { officeJwks, type Libraries } from '../oid4vci-lib.ts';
import { exchangeToken } from '../use-cases/exchange-token.ts';
import { issueCredential } from '../use-cases/issue-credential.ts';
import { collectDeferred } from '../use-cases/collect-deferred.ts';
import { createDpopNonce } from '../oauth/dpop.ts';
import { createCNonce } from '../c-nonce.ts';

/** The request as the libraries see it; the URL is built from our public URL, never from Host. */
export function requestLike(publicUrl: string, req: { method: string; url: string; headers: IncomingHttpHeaders }): RequestLike {
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (Array.isArray(v)) for (const x of v) headers.append(k, x);
    else if (typeof v === 'string') headers.set(k, v);
  }
  return { method: req.method as RequestLike['method'], url: new URL(req.url, publicUrl).toString(), headers };
}

/** §4.1.1 `tx_code` of every desk offer: six digits handed over at the counter. */
const TX_CODE = { input_mode: 'numeric', length: 6, description: 'Bitte geben Sie den sechsstelligen Code ein, den Sie im Amt erhalten haben. / Enter the six-digit code you received at the office.' } as const;

/** How long one DPoP nonce is handed out (of its DPOP_NONCE_TTL_S of validity). */
const DPOP_NONCE_SHARED_MS = 30_000;

/**
 * OID4VCI 1.0 endpoints of every office, under its Credential Issuer Identifier
 * `<ISSUER_PUBLIC_URL>/offices/<slug>`; metadata at the well-known locations for an identifier
 * with a path (§12.2.2, RFC 8414 §3.1: the well-known segment goes before the path).
 * Mounted on the service's fast lane (core/http/fast-lane.ts): these are the wallet's hot routes.
 */
export function oid4vciRoutes(r: FastifyInstance, deps: IssuerDeps, libs: Libraries, metadata: Map<string, { issuer: Record<string, unknown>; result: IssuerMetadataResult }>): void {
  const office = (slug: unknown): Office => {
    const o = deps.offices.get(String(slug));
    if (!o) throw notFound('unknown-office', 'No office at this path.');
    return o;
  };
  // RFC 9449 §8.2, §9: every answer of the token, nonce, credential and deferred endpoints (errors too)
  // carries a fresh server nonce (stateless, issuer/oauth/dpop.ts), so a DPoP wallet needs no extra round trip.
  // One nonce per office is handed out for 30 s of its 5-minute life (issue 16: a fresh one per answer
  // was 2.5 % of the issuer's busy time in the bench profile, random bytes and an HMAC each). RFC 9449 §8
  // leaves the nonce's scope to the server; what it limits is how long a proof can be used, and every
  // nonce handed out still has at least 4.5 minutes left. Single use stays with the proof's `jti`.
  const nonces = new Map<string, { nonce: string; at: number }>();
  const dpopNonce = (reply: FastifyReply, o: Office) => {
    const now = deps.clock();
    let n = nonces.get(o.slug);
    if (!n || now < n.at || now - n.at >= DPOP_NONCE_SHARED_MS) nonces.set(o.slug, (n = { nonce: createDpopNonce(deps, o), at: now }));
    reply.header('DPoP-Nonce', n.nonce);
  };
  // OAuth-family answers: errors as {error, error_description}, never cached.
  const oauth = { onRequest: (_req: unknown, reply: FastifyReply, done: () => void) => {
    setErrorStyle(reply.raw as ServerResponse, 'oauth');
    reply.header('Cache-Control', 'no-store');
    done();
  } };
  // Public, credential-less documents may be read from any origin.
  const publicCors = (reply: FastifyReply) => reply.header('Access-Control-Allow-Origin', '*');
  type Slug = { Params: { slug: string } };

  r.get<Slug>('/.well-known/openid-credential-issuer/offices/:slug', async (req, reply) => {
    publicCors(reply).header('Cache-Control', 'public, max-age=300');
    return metadata.get(office(req.params.slug).slug)!.issuer;
  });
  r.get<Slug>('/.well-known/oauth-authorization-server/offices/:slug', async (req, reply) => {
    publicCors(reply).header('Cache-Control', 'public, max-age=300');
    return authorizationServerMetadata(office(req.params.slug));
  });
  r.get<Slug>('/offices/:slug/jwks.json', async (req, reply) => {
    publicCors(reply).header('Cache-Control', 'public, max-age=300').type('application/jwk-set+json; charset=utf-8');
    return JSON.stringify(officeJwks(office(req.params.slug)));
  });

  // §4.1.3: the Credential Offer object, by reference. Served only while the offer is open.
  r.get<{ Params: { slug: string; id: string } }>('/offices/:slug/credential-offers/:id', async (req, reply) => {
    publicCors(reply);
    const o = office(req.params.slug);
    const id = String(req.params.id);
    const row = /^[0-9a-f-]{36}$/.test(id) ? await deps.store.getOffer(o.slug, id) : null;
    // A locked offer is still served: its code is useless, and the wallet learns why at the token
    // endpoint ("locked after too many wrong codes") instead of a bare "does not exist".
    if (!row || (row.state !== 'pending' && row.state !== 'locked') || row.expires_at <= deps.clock()) throw notFound('unknown-offer', 'This credential offer does not exist, was used or has expired.');
    // §4.1.1 written out rather than through the library's createCredentialOffer, which checks our own
    // object against its zod schema on every GET (0.9 % of the issuer's busy time in the bench profile,
    // issue 16); the configuration must still be in the live metadata, as the library checked.
    // The flow tests read it with the library's wallet-side parser (tests/helpers/holder.ts) and with Credo.
    const supported = metadata.get(o.slug)?.issuer.credential_configurations_supported as Record<string, unknown> | undefined;
    if (!supported || !Object.hasOwn(supported, row.configuration_id)) throw notFound('unknown-offer', 'This credential offer is for a credential the office no longer issues.');
    reply.header('Cache-Control', 'no-store');
    return {
      credential_issuer: o.issuerId,
      credential_configuration_ids: [row.configuration_id],
      grants: {
        [preAuthorizedCodeGrantIdentifier]: {
          'pre-authorized_code': deps.codes.preAuthorizedCode(row.id),
          tx_code: TX_CODE,
        },
      },
    };
  });

  // §6: token endpoint (form-encoded, RFC 6749 §4.1.3).
  r.post<Slug>('/offices/:slug/token', oauth, async (req, reply) => {
    const o = office(req.params.slug);
    dpopNonce(reply, o);
    return exchangeToken(deps, libs, o, requestLike(deps.publicUrl, req), req.body);
  });

  // §7: nonce endpoint.
  r.post<Slug>('/offices/:slug/nonce', oauth, async (req, reply) => {
    const o = office(req.params.slug);
    // §7.2: "The Credential Issuer MAY provide a DPoP nonce" here, for the proof at the Credential Endpoint.
    dpopNonce(reply, o);
    // Stateless (issuer/c-nonce.ts): no write here; single use is kept where it is spent.
    return libs.issuer.createNonceResponse({ cNonce: createCNonce(deps, o) });
  });

  // §8: credential endpoint.
  r.post<Slug>('/offices/:slug/credential', oauth, async (req, reply) => {
    const o = office(req.params.slug);
    dpopNonce(reply, o);
    const out = await issueCredential(deps, libs, o, metadata.get(o.slug)!.result, requestLike(deps.publicUrl, req), req.body);
    reply.code(out.status);
    return out.body;
  });

  // §9: deferred credential endpoint.
  r.post<Slug>('/offices/:slug/deferred_credential', oauth, async (req, reply) => {
    const o = office(req.params.slug);
    dpopNonce(reply, o);
    const out = await collectDeferred(deps, libs, o, metadata.get(o.slug)!.result, requestLike(deps.publicUrl, req), req.body);
    reply.code(out.status);
    return out.body;
  });
}
