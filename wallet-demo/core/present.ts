import { createPrivateKey } from 'node:crypto';
import { SignJWT, importJWK } from 'jose';
import { DcqlQuery } from 'dcql';
import { presentSdJwtVc } from '../../core/formats/sd-jwt-vc/index.ts';
import { evaluateRelyingParty } from '../../core/trust/evaluate.ts';
import { toIso } from '../../core/util/time.ts';
import { vpClient, walletFetch } from './protocol-clients.ts';
import type { HistoryEntry, StoredCredential } from './store.ts';
import { fetchableUrl, publicJwk, WalletError, type WalletContext } from './wallet.ts';
import { certifiedRelyingParty } from './x509-client.ts';
import { checkAgainstAttestation, readVerifierInfo } from './verifier-info.ts';

type ClaimPath = (string | number | null)[];

export interface QueryPlan {
  queryId: string;
  type: string;
  required: boolean;
  /** Credentials that answer this query (the citizen may pick). */
  candidates: StoredCredential[];
  /** Exactly the claims that would leave the wallet. */
  claims: ClaimPath[];
}

export interface PresentationPlan {
  verifier: string;
  verifierName?: { de: string; en: string };
  purpose?: { de: string; en: string };
  /** The registry knows this relying party and it asks only for what it is registered for. */
  registered: boolean;
  /** The registry's word came from its signed attestation in the request's `verifier_info` (checked offline, no registry lookup). */
  attested?: boolean;
  warnings: string[];
  queries: QueryPlan[];
  canSatisfy: boolean;
  /** Opaque: the resolved request, for send/decline. */
  request: unknown;
}

const dcqlInput = (c: StoredCredential) =>
  c.format === 'dc+sd-jwt'
    ? { credential_format: 'dc+sd-jwt' as const, vct: c.type, claims: c.claims as never, cryptographic_holder_binding: true }
    : { credential_format: 'jwt_vc_json' as const, type: c.w3cTypes ?? [], claims: { credentialSubject: c.claims } as never, cryptographic_holder_binding: true };

/**
 * Reads an OID4VP 1.0 request (openid4vp://…): fetches and verifies the signed Request Object,
 * looks the relying party up in the trust registry (its registered name, purpose, and the claims
 * it may ask for), and matches the DCQL query against the wallet. Nothing is sent here.
 */
export async function preparePresentation(ctx: WalletContext, authorizationRequest: string): Promise<PresentationPlan> {
  const input = authorizationRequest.trim();
  if (!/^(openid4vp:\/\/|https?:\/\/)\S+$/.test(input)) throw new WalletError('malformed_request', 'Das ist keine Vorlage-Anfrage (openid4vp://…). / This is not a presentation request.');
  if (!input.startsWith('openid4vp://') && !fetchableUrl(input, ctx.allowLocalHttp)) throw insecureUrl();
  const client = vpClient(ctx.resolver, {}, ctx.trustedCas ? { anchors: ctx.trustedCas, now: ctx.clock } : undefined);
  let parsed;
  try {
    parsed = client.parseOpenid4vpAuthorizationRequest({ authorizationRequest: input });
  } catch {
    throw new WalletError('invalid_request', 'Die Anfrage ist ungültig. / The request is invalid.');
  }
  // OID4VP 1.0 §14.7 and §15.8.1: the Request Object is fetched over TLS only, and only now that the citizen asked for it.
  const requestUri = (parsed.params as { request_uri?: unknown }).request_uri;
  if (requestUri !== undefined && !fetchableUrl(String(requestUri), ctx.allowLocalHttp)) throw insecureUrl();
  let resolved;
  try {
    resolved = await client.resolveOpenId4vpAuthorizationRequest({ authorizationRequestPayload: parsed.params as never });
  } catch {
    // No detail from the other side (status code, body text) reaches the page: a link must not turn the wallet into a probe.
    throw new WalletError('invalid_request', 'Die Anfrage ließ sich nicht abrufen, ist ungültig oder nicht korrekt signiert. / The request could not be fetched, is invalid or is not correctly signed.');
  }
  return planResolved(ctx, resolved);
}

/** A request as @openid4vc/openid4vp resolved it (signature and client identifier checked). */
export type ResolvedVpRequest = Awaited<ReturnType<ReturnType<typeof vpClient>['resolveOpenId4vpAuthorizationRequest']>>;

/**
 * The checks after a request resolved (fetched by request_uri above, or handed over the W3C Digital
 * Credentials API in present-dc-api.ts) and the plan. `dcApiOrigin`: the caller's origin over the DC
 * API, which stands where the response URI stands for the `x509_hash` host rule.
 */
export async function planResolved(ctx: WalletContext, resolved: ResolvedVpRequest, dcApiOrigin?: string): Promise<PresentationPlan> {
  // OID4VP 1.0 §5.9.3: signed requests only, by a DID (decentralized_identifier) or a city-CA certificate (x509_hash, HAIP).
  const prefix = resolved.client.prefix;
  if ((prefix !== 'decentralized_identifier' && prefix !== 'x509_hash') || !resolved.jar) throw new WalletError('unsigned_request', 'Die Anfrage ist nicht von einer registrierten Stelle signiert. / The request is not signed by a registered organisation.');
  // The response goes only to an https Response URI (OID4VP 1.0 §8.2, §14.7).
  const responseUri = (resolved.authorizationRequestPayload as { response_uri?: unknown }).response_uri;
  if (responseUri !== undefined && !fetchableUrl(String(responseUri), ctx.allowLocalHttp)) throw insecureUrl();
  if (!resolved.dcql) throw new WalletError('invalid_request', 'Die Anfrage enthält keine DCQL-Abfrage. / The request has no DCQL query.');
  // x509_hash: chain, hash, response host checked again and the DID the registry knows read from the certificate.
  const verifier = prefix === 'x509_hash' ? certifiedRelyingParty(ctx, resolved.client as { identifier: string; x5c?: unknown }, dcApiOrigin ?? responseUri) : resolved.client.identifier;
  let query: DcqlQuery;
  try {
    query = DcqlQuery.parse(resolved.dcql.query as never);
    DcqlQuery.validate(query);
  } catch {
    throw new WalletError('invalid_request', 'Die Abfrage der Anfrage ist ungültig. / The request’s query is invalid.');
  }

  const warnings: string[] = [];
  let registered = true;
  let verifierName: PresentationPlan['verifierName'];
  let purpose: PresentationPlan['purpose'];
  // OID4VP 1.0 §5.1 verifier_info: the registry's signed registration of this relying party answers
  // offline; a forged, expired or misbound one is an error (verifier-info.ts). Queries it does not
  // cover, and requests without one, are asked of the registry online as before.
  const attested = await readVerifierInfo(ctx, resolved.authorizationRequestPayload as Record<string, unknown>, verifier);
  const attestationFor = (id: string) => attested.find((a) => !a.credentialIds || a.credentialIds.includes(id));
  let index;
  if (query.credentials.some((cq) => !attestationFor(cq.id))) {
    try {
      index = await ctx.trust.index();
    } catch {
      throw new WalletError('trust_unavailable', 'Das Vertrauensregister ist nicht erreichbar; ohne seine Auskunft wird nichts geteilt. / The trust registry cannot be reached; nothing is shared without it.');
    }
  }
  verifierName = attested[0]?.name ?? index?.entities.get(verifier)?.name;
  if (!verifierName) {
    registered = false;
    warnings.push('Diese Stelle ist nicht im Vertrauensregister eingetragen. / This organisation is not in the trust registry.');
  }

  const held = ctx.store.snapshot.credentials;
  const result = DcqlQuery.query(query, held.map(dcqlInput));
  const required = new Set<string>(query.credential_sets ? query.credential_sets.filter((s) => s.required !== false).flatMap((s) => s.options.flat()) : query.credentials.map((c) => c.id));
  const queries: QueryPlan[] = [];
  for (const cq of query.credentials) {
    const match = result.credential_matches[cq.id];
    const candidates = match?.success ? match.valid_credentials.map((v) => held[v.input_credential_index]!) : [];
    const paths = (cq.claims ?? []).map((c) => ('path' in c ? (c.path as ClaimPath) : [c.namespace, c.claim_name]));
    const type = candidates[0]?.type ?? (cq.format === 'dc+sd-jwt' ? (cq.meta?.vct_values?.[0] ?? '?') : '?');
    // The registry's word on this relying party for this type and these claims (same evaluation as the verifier's).
    const regPaths = cq.format === 'jwt_vc_json' ? paths.map((p) => (p[0] === 'credentialSubject' ? p.slice(1) : p)) : paths;
    const att = attestationFor(cq.id);
    if (att) {
      const v = checkAgainstAttestation(att, {
        ...(cq.format === 'dc+sd-jwt' ? { vctValues: cq.meta?.vct_values ?? [] } : {}),
        ...(cq.format === 'jwt_vc_json' ? { typeValues: cq.meta?.type_values ?? [] } : {}),
        candidateTypes: candidates.map((c) => c.type),
        paths: regPaths,
      });
      purpose ??= v.purpose;
      if (!v.authorized) {
        registered = false;
        warnings.push(v.warning!);
      }
    } else if (index && verifierName && type !== '?') {
      const v = evaluateRelyingParty(index, { verifier, vct: type, paths: regPaths, time: ctx.clock() });
      purpose ??= v.purpose;
      if (!v.authorized) {
        registered = false;
        warnings.push(
          v.excess.length
            ? `Fragt mehr ab, als für sie eingetragen ist: ${v.excess.map((p) => p.join('.')).join(', ')}. / Asks for more than it is registered for.`
            : 'Ist für diesen Nachweis nicht als prüfende Stelle eingetragen. / Not registered to check this credential.',
        );
      }
    }
    queries.push({ queryId: cq.id, type, required: required.has(cq.id), candidates, claims: paths });
  }
  return { verifier, ...(verifierName ? { verifierName } : {}), ...(purpose ? { purpose } : {}), registered, ...(attested.length > 0 && !index ? { attested: true } : {}), warnings, queries, canSatisfy: result.can_be_satisfied, request: resolved };
}

const insecureUrl = () =>
  new WalletError('insecure_url', 'Die Wallet ruft Anfragen nur über eine sichere Verbindung (https://) ab; nichts wurde abgerufen. / The wallet fetches requests only over a secure connection (https://); nothing was fetched.');

/** Picks the copy of a document to show: one this verifier has not seen, preferring unused copies (unlinkability). */
function pickCopy(candidates: StoredCredential[], verifier: string): StoredCredential | undefined {
  return candidates.find((c) => !c.usedBy?.length) ?? candidates.find((c) => c.usedBy?.includes(verifier)) ?? candidates[0];
}

/**
 * Sends exactly the claims of the plan, after the citizen consented. `choice` names the credential
 * per query; optional queries without a choice (or without a match) are left out.
 */
export async function sendPresentation(ctx: WalletContext, plan: PresentationPlan, choice: Record<string, string> = {}, opts: { includeOptional?: boolean; dcApiOrigin?: string } = {}): Promise<{ status: number; dcApiResponse?: string }> {
  if (!plan.canSatisfy) throw new WalletError('no_matching_credential', 'Die Wallet enthält nicht die angefragten Nachweise. / The wallet does not hold the credentials asked for.');
  const resolved = plan.request as Awaited<ReturnType<ReturnType<typeof vpClient>['resolveOpenId4vpAuthorizationRequest']>>;
  const payload = resolved.authorizationRequestPayload as Record<string, unknown>;
  // OID4VP 1.0 Appendix A.4: over the DC API the audience is the caller's origin prefixed `origin:`, even for signed requests.
  const aud = opts.dcApiOrigin !== undefined ? `origin:${opts.dcApiOrigin}` : resolved.client.effective;
  const nonce = String(payload.nonce);
  const vp_token: Record<string, string[]> = {};
  const shared: HistoryEntry['shared'] = [];
  for (const q of plan.queries) {
    if (q.candidates.length === 0 || (!q.required && !opts.includeOptional && !choice[q.queryId])) continue;
    const cred = (choice[q.queryId] && q.candidates.find((c) => c.id === choice[q.queryId])) || pickCopy(q.candidates, plan.verifier);
    if (!cred) continue;
    const key = ctx.store.snapshot.keys.find((k) => k.id === cred.keyId);
    if (!key) throw new WalletError('key_missing', 'Der Schlüssel zu diesem Nachweis fehlt. / The key of this credential is missing.');
    const iat = Math.floor(ctx.clock() / 1000);
    if (cred.format === 'dc+sd-jwt') {
      vp_token[q.queryId] = [await presentSdJwtVc({ sdJwt: cred.raw, disclose: q.claims, holderKey: createPrivateKey({ key: key.jwk as never, format: 'jwk' }), aud, nonce, iat })];
    } else {
      const pub = publicJwk(key);
      const did = `did:jwk:${Buffer.from(JSON.stringify({ crv: pub.crv, kty: pub.kty, x: pub.x, y: pub.y })).toString('base64url')}`;
      vp_token[q.queryId] = [
        await new SignJWT({ nonce, vp: { '@context': ['https://www.w3.org/2018/credentials/v1'], type: ['VerifiablePresentation'], verifiableCredential: [cred.raw] } })
          .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: `${did}#0` })
          .setIssuer(did)
          .setAudience(aud)
          .setIssuedAt(iat)
          .sign(await importJWK(key.jwk, 'ES256')),
      ];
    }
    shared.push({ credentialId: cred.id, type: cred.type, claims: q.claims.map((p) => p.filter((s) => s !== 'credentialSubject').join('.')) });
  }
  const client = vpClient(ctx.resolver);
  const response = await client.createOpenid4vpAuthorizationResponse({
    authorizationRequestPayload: resolved.authorizationRequestPayload,
    authorizationResponsePayload: { vp_token },
    ...(opts.dcApiOrigin !== undefined ? { origin: opts.dcApiOrigin } : {}),
    ...(payload.response_mode === 'direct_post.jwt' || payload.response_mode === 'dc_api.jwt'
      ? { jarm: { encryption: { nonce: Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('base64url') }, serverMetadata: { authorization_signing_alg_values_supported: ['ES256'], authorization_encryption_alg_values_supported: ['ECDH-ES'], authorization_encryption_enc_values_supported: ['A128GCM', 'A256GCM'] } } }
      : {}),
  } as never);
  // Over the DC API the platform carries the encrypted answer back to the page that asked (present-dc-api.ts); nothing is posted.
  const dcApiResponse = opts.dcApiOrigin !== undefined ? response.jarm?.responseJwt : undefined;
  const submitted = opts.dcApiOrigin !== undefined ? undefined : await client.submitOpenid4vpAuthorizationResponse({
    authorizationRequestPayload: resolved.authorizationRequestPayload,
    authorizationResponsePayload: response.authorizationResponsePayload,
    ...(response.jarm ? { jarm: { responseJwt: response.jarm.responseJwt } } : {}),
  } as never);
  const status = submitted ? submitted.response.status : dcApiResponse ? 200 : 500;
  ctx.store.update((d) => {
    d.history.push({ at: toIso(ctx.clock()), verifier: plan.verifier, ...(plan.verifierName ? { verifierName: plan.verifierName } : {}), ...(plan.purpose ? { purpose: plan.purpose } : {}), outcome: status === 200 ? 'shared' : 'failed', shared });
    for (const s of shared) {
      const c = d.credentials.find((x) => x.id === s.credentialId);
      if (c) c.usedBy = [...new Set([...(c.usedBy ?? []), plan.verifier])];
    }
  });
  if (status !== 200) throw new WalletError('verifier_refused', 'Die prüfende Stelle hat die Antwort abgelehnt. / The verifier refused the response.');
  return { status, ...(dcApiResponse ? { dcApiResponse } : {}) };
}

/** The citizen declines: the verifier is told (OID4VP 1.0 §8.5 access_denied) and the history records it. */
export async function declinePresentation(ctx: WalletContext, plan: PresentationPlan): Promise<void> {
  const resolved = plan.request as { authorizationRequestPayload: Record<string, unknown> };
  const uri = resolved.authorizationRequestPayload.response_uri;
  if (typeof uri === 'string' && fetchableUrl(uri, ctx.allowLocalHttp)) {
    await walletFetch()(uri, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ error: 'access_denied', state: String(resolved.authorizationRequestPayload.state ?? '') }) }).catch(() => undefined);
  }
  ctx.store.update((d) => d.history.push({ at: toIso(ctx.clock()), verifier: plan.verifier, ...(plan.verifierName ? { verifierName: plan.verifierName } : {}), outcome: 'declined', shared: [] }));
}
