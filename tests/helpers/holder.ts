import { KeyObject } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { publicKeyObject } from '../../core/crypto/jwk.ts';
import { createDidResolver, resolveAssertionKey } from '../../core/did/resolver.ts';
import { presentSdJwtVc } from '../../core/formats/sd-jwt-vc/index.ts';
import type { Stack } from './stack.ts';
import { newHolderKey, testWallet, type HolderKey } from './oid4vci-wallet.ts';

/** Receives one credential over OID4VCI from the stack's issuer, bound to a fresh holder key. */
export async function receiveCredential(stack: Stack, office: string, configuration: string, claims: unknown): Promise<{ credential: string; key: HolderKey; offerId: string }> {
  const key = await newHolderKey();
  const res = await stack.admin('issuer', `/api/offices/${office}/offers`, { credential_configuration_id: configuration, claims });
  if (res.status !== 201) throw new Error(`offer: ${res.status} ${await res.text()}`);
  const offer = await res.json();
  const { client, signer } = testWallet([key]);
  const credentialOffer = await client.resolveCredentialOffer(offer.credential_offer);
  const issuerMetadata = await client.resolveIssuerMetadata(credentialOffer.credential_issuer);
  const { accessTokenResponse } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({ credentialOffer, issuerMetadata, txCode: offer.tx_code });
  const { c_nonce } = await client.requestNonce({ issuerMetadata });
  const { jwt } = await client.createCredentialRequestJwtProof({ issuerMetadata, credentialConfigurationId: configuration, signer: signer(key), nonce: c_nonce });
  const r = await client.retrieveCredentials({ issuerMetadata, accessToken: accessTokenResponse.access_token, credentialConfigurationId: configuration, proofs: { jwt: [jwt] } });
  return { credential: (r.credentialResponse.credentials as { credential: string }[])[0]!.credential, key, offerId: offer.offer_id };
}

export interface ResolvedRequest {
  clientId: string;
  payload: Record<string, any>;
}

/** Resolves `openid4vp://?client_id=…&request_uri=…`: fetches the request object and checks its signature against the client's did:web. */
export async function resolveRequest(authorizationRequest: string): Promise<ResolvedRequest> {
  const url = new URL(authorizationRequest);
  const clientId = url.searchParams.get('client_id')!;
  const jwt = await (await fetch(url.searchParams.get('request_uri')!)).text();
  const header = decodeProtectedHeader(jwt);
  if (header.typ !== 'oauth-authz-req+jwt') throw new Error('not a request object');
  const did = clientId.replace(/^decentralized_identifier:/, '');
  const key = await resolveAssertionKey(createDidResolver(), String(header.kid), did);
  const { payload } = await jwtVerify(jwt, publicKeyObject(key), { algorithms: ['ES256'] });
  if (payload.client_id !== clientId) throw new Error('client_id mismatch');
  return { clientId, payload: payload as Record<string, any> };
}

/** Presents exactly the claims a DCQL credential query asks for. */
export async function present(credential: string, key: HolderKey, req: ResolvedRequest, queryId: string, opts: { nonce?: string; aud?: string } = {}): Promise<string> {
  const cq = req.payload.dcql_query.credentials.find((c: { id: string }) => c.id === queryId);
  return presentSdJwtVc({
    sdJwt: credential,
    disclose: cq.claims.map((c: { path: string[] }) => c.path),
    holderKey: KeyObject.from(key.privateKey as never),
    aud: opts.aud ?? req.clientId,
    nonce: opts.nonce ?? req.payload.nonce,
    iat: Math.floor(Date.now() / 1000),
  });
}

export function postResponse(req: ResolvedRequest, vpToken: unknown, state?: string): Promise<Response> {
  return fetch(req.payload.response_uri, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ vp_token: typeof vpToken === 'string' ? vpToken : JSON.stringify(vpToken), state: state ?? req.payload.state }),
  });
}
