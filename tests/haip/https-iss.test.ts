import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { SdJwtVcRecord } from '@credo-ts/core';
import { VCT } from '../../core/demo/leipzig.ts';
import { issueSdJwtVc } from '../../core/formats/sd-jwt-vc/index.ts';
import { openCityCa, type CityCa } from '../../core/x509/city-ca.ts';
import { issueLeafCertificate } from '../../core/x509/issue-certificate.ts';
import { pemOf } from '../../core/x509/pem.ts';
import { validateChain } from '../../core/x509/validate-chain.ts';
import { receive } from '../../wallet-demo/core/receive.ts';
import { preparePresentation, sendPresentation } from '../../wallet-demo/core/present.ts';
import { openWallet } from '../../wallet-demo/core/wallet.ts';
import { createCredoHolder, type CredoHolder } from '../helpers/credo/holder.ts';
import { MELDE } from '../helpers/fixtures.ts';
import { postResponse, present, resolveRequest } from '../helpers/holder.ts';
import { newHolderKey } from '../helpers/oid4vci-wallet.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import { demoCa, p256Signer } from './haip-fixtures.ts';

/**
 * Issue 17: with a city CA (the default in demo mode) an office's SD-JWT VCs carry `x5c` and `iss` =
 * its Credential Issuer Identifier `<ISSUER_PUBLIC_URL>/offices/<slug>`, a SAN URI of its certificate
 * (SD-JWT VC §2.5), so Credo 0.6.3 takes them (it refuses `x5c` beside a did:web `iss`). The verifier
 * and the wallet core take the one DID the certificate names as the entity the registry must authorise.
 * Real registry, issuer and verifier on loopback; Credo's own OID4VC code as the third-party wallet.
 */
const KEY_ENCRYPTION_SECRET = 'c'.repeat(64); // tests/helpers/stack.ts

describe('https iss with x5c (issue 17): Credo, our verifier and our wallet core', () => {
  let stack: Stack;
  let holder: CredoHolder;
  let cityCa: CityCa;
  let caPem: string;
  const ci = (slug: string) => `${stack.urls.issuer}/offices/${slug}`;

  beforeAll(async () => {
    stack = await startStack({ env: { STATUS_LIST_MAX_AGE: '0', VERIFIER_TRUST_MAX_AGE: '0', ISSUER_TRUST_MAX_AGE: '0' } });
    caPem = readFileSync(join(stack.dataDir, 'city-ca', 'city-ca.pem'), 'utf8');
    holder = await createCredoHolder({ trustedCertificates: [caPem] });
    // The demo city CA the services share (to make certificates a rogue issuer could not get elsewhere).
    cityCa = (await openCityCa({ mode: 'demo', dataDir: stack.dataDir, keyEncryptionSecret: KEY_ENCRYPTION_SECRET, now: Date.now() }))!;
  }, 120_000);
  afterAll(async () => {
    await holder?.agent.shutdown();
    await stack?.close();
  });

  const offer = async (office = 'buergerbuero', configuration = 'meldebescheinigung_sd_jwt', claims: unknown = MELDE) => {
    const res = await stack.admin('issuer', `/api/offices/${office}/offers`, { credential_configuration_id: configuration, claims });
    expect(res.status, await res.clone().text()).toBe(201);
    return (await res.json()) as { offer_id: string; credential_offer: string; tx_code: string };
  };

  const credoReceive = async (h: CredoHolder) => {
    const o = await offer();
    const api = h.agent.modules.openid4vc.holder;
    const resolvedCredentialOffer = await api.resolveCredentialOffer(o.credential_offer);
    const token = await api.requestToken({ resolvedCredentialOffer, txCode: o.tx_code });
    const { credentials } = await api.requestCredentials({ resolvedCredentialOffer, ...token, credentialBindingResolver: h.credentialBindingResolver });
    const record = credentials[0]!.record;
    if (!(record instanceof SdJwtVcRecord)) throw new Error('not an SD-JWT VC');
    return h.agent.sdJwtVc.store({ record });
  };

  /** The verifier asks; Credo answers with its own OID4VP code; the verdict is read back. */
  const credoPresent = async () => {
    const res = await stack.admin('verifier', '/api/verifiers/buergerbuero/requests', { template: 'meldebescheinigung' });
    expect(res.status).toBe(201);
    const r = (await res.json()) as { request_id: string; authorization_request: string };
    const api = holder.agent.modules.openid4vc.holder;
    const resolved = await api.resolveOpenId4VpAuthorizationRequest(r.authorization_request);
    if (!resolved.dcql) throw new Error('no DCQL query in the request');
    const credentials = api.selectCredentialsForDcqlRequest(resolved.dcql.queryResult);
    await api.acceptOpenId4VpAuthorizationRequest({ authorizationRequestPayload: resolved.authorizationRequestPayload, dcql: { credentials } });
    return (await (await stack.admin('verifier', `/api/verifiers/buergerbuero/requests/${r.request_id}`)).json()) as { status: string; result: { errors: { code: string; message: string }[]; credentials: { issuer: string; issuer_name: string | null }[] } };
  };

  it('the issuer signs with x5c and iss = the Credential Issuer Identifier; the certificate names it and the did:web; Credo stores it', async () => {
    const stored = await credoReceive(holder);
    const compact = stored.firstCredential.compact;
    const header = decodeProtectedHeader(compact.split('~')[0]!);
    const payload = decodeJwt(compact.split('~')[0]!);
    expect(payload.iss).toBe(ci('buergerbuero'));
    expect(header.kid).toMatch(new RegExp(`^${stack.officeDid('buergerbuero').replace(/[.%]/g, '\\$&')}#`));
    const chain = validateChain(header.x5c, [cityCa.root], Date.now());
    expect(chain).toMatchObject({ ok: true, sanUris: [ci('buergerbuero'), stack.officeDid('buergerbuero')] });
    // The status list stays the DID's (its token is signed with the did:web key).
    expect((payload.status as { status_list: { uri: string } }).status_list.uri).toBe(`${ci('buergerbuero')}/status-lists/1`);
    expect(stored.firstCredential.prettyClaims).toMatchObject({ vorname: 'Erika', wohnsitz_leipzig: true });
  });

  it('JWT VC Issuer Metadata (SD-JWT VC §5) resolves the https iss: issuer equal to it, the signing key under the header kid', async () => {
    const o = await offer();
    const api = holder.agent.modules.openid4vc.holder;
    const resolvedCredentialOffer = await api.resolveCredentialOffer(o.credential_offer);
    const token = await api.requestToken({ resolvedCredentialOffer, txCode: o.tx_code });
    const { credentials } = await api.requestCredentials({ resolvedCredentialOffer, ...token, credentialBindingResolver: holder.credentialBindingResolver });
    const compact = (credentials[0]!.record as SdJwtVcRecord).firstCredential.compact.split('~')[0]!;
    const iss = String(decodeJwt(compact).iss);
    const header = decodeProtectedHeader(compact);
    // §5.1: /.well-known/jwt-vc-issuer inserted between host and path.
    const u = new URL(iss);
    const res = await fetch(`${u.origin}/.well-known/jwt-vc-issuer${u.pathname}`);
    expect(res.status).toBe(200);
    const md = (await res.json()) as { issuer: string; jwks: { keys: { kid: string; x: string; y: string }[] } };
    expect(md.issuer).toBe(iss);
    const key = md.jwks.keys.find((k) => k.kid === header.kid);
    const chain = validateChain(header.x5c, [cityCa.root], Date.now());
    expect(key).toBeDefined();
    expect(chain.ok && [chain.publicJwk.x, chain.publicJwk.y]).toEqual([key!.x, key!.y]);
  });

  it('Credo presents it to our verifier: verified, the verdict names the did:web and its registry name', async () => {
    const out = await credoPresent();
    expect(out.status, JSON.stringify(out.result?.errors)).toBe('verified');
    expect(out.result.credentials[0]).toMatchObject({ issuer: stack.officeDid('buergerbuero') });
    expect(out.result.credentials[0]!.issuer_name).toBeTruthy();
  });

  it('the registry decides on the DID from the certificate: the office’s grant suspended, the same presentation is refused; active again, verified', async () => {
    const q = `/api/grants?entity_id=${encodeURIComponent(stack.officeDid('buergerbuero'))}&action=issue&resource=${encodeURIComponent(VCT.meldebescheinigung)}`;
    const grants = ((await (await stack.admin('registry', q)).json()) as { grants: { id: string }[] }).grants;
    expect(grants).toHaveLength(1);
    // Registry times are whole seconds: suspend in a later second than the credentials' iat, or they count as issued while suspended.
    await new Promise((r) => setTimeout(r, 1100));
    expect((await stack.admin('registry', `/api/grants/${grants[0]!.id}/status`, { status: 'suspended', reason: 'Prüfung / review' })).status).toBe(200);
    try {
      const out = await credoPresent();
      expect(out.status).toBe('rejected');
      expect(out.result.errors.map((e) => e.code)).toContain('issuer_suspended');
    } finally {
      // A reinstatement takes effect after the suspension it lifts (never in the same second).
      const at = (Math.floor(Date.now() / 1000) + 2) * 1000;
      expect((await stack.admin('registry', `/api/grants/${grants[0]!.id}/status`, { status: 'active', reason: 'geprüft / reviewed', effective_at: new Date(at).toISOString().replace('.000Z', 'Z') })).status).toBe(200);
      await new Promise((r) => setTimeout(r, at - Date.now() + 100));
    }
    let again = await credoPresent();
    for (let i = 0; i < 5 && again.status !== 'verified'; i++) {
      await new Promise((r) => setTimeout(r, 500));
      again = await credoPresent();
    }
    expect(again.status, JSON.stringify(again.result?.errors)).toBe('verified');
  });

  it('a Credo wallet that trusts another CA refuses the credential', async () => {
    const stranger = await createCredoHolder({ trustedCertificates: [pemOf([(await demoCa()).root])] });
    try {
      await expect(credoReceive(stranger)).rejects.toThrow();
      expect(await stranger.agent.sdJwtVc.getAll()).toHaveLength(0);
    } finally {
      await stranger.agent.shutdown();
    }
  });

  describe('certificates a rogue issuer might send, presented over HTTP to our verifier (the credential is signed by a key of the test)', () => {
    /** An SD-JWT VC with `iss` = the Bürgerbüro's identifier, signed by a key of ours, certified as `uris` say. */
    const presentForged = async (o: { uris: string[]; ca?: CityCa; kid?: string }) => {
      const signer = p256Signer(o.kid ?? `${stack.officeDid('buergerbuero')}#forged`);
      const leaf = await issueLeafCertificate(o.ca ?? cityCa, { publicJwk: signer.publicJwk, name: 'Bürgerbüro', uris: o.uris, now: Date.now() });
      const key = await newHolderKey();
      const sdJwt = await issueSdJwtVc({ signer, iss: ci('buergerbuero'), vct: VCT.meldebescheinigung, x5c: leaf.x5c, claims: MELDE, cnf: { jwk: key.publicJwk }, iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 3600 });
      const created = await (await stack.admin('verifier', '/api/verifiers/buergerbuero/requests', { template: 'meldebescheinigung' })).json();
      const req = await resolveRequest(created.authorization_request);
      const queryId = req.payload.dcql_query.credentials[0].id as string;
      await postResponse(req, { [queryId]: [await present(sdJwt, key, req, queryId)] });
      const out = await (await stack.admin('verifier', `/api/verifiers/buergerbuero/requests/${created.request_id}`)).json();
      expect(out.status).toBe('rejected');
      // The verdict keeps the reason codes only; the certificate's detail codes are proven in tests/haip/x5c.test.ts.
      return (out.result.errors as { code: string }[]).map((e) => e.code);
    };

    it('a chain to another CA: refused (issuer_certificate_invalid)', async () => {
      expect(await presentForged({ uris: [ci('buergerbuero'), stack.officeDid('buergerbuero')], ca: await demoCa() })).toEqual(['issuer_certificate_invalid']);
    });

    it('a city-CA leaf whose SAN URIs name another office: refused (issuer_certificate_invalid)', async () => {
      expect(await presentForged({ uris: [ci('standesamt'), stack.officeDid('standesamt')] })).toEqual(['issuer_certificate_invalid']);
    });

    it('a city-CA leaf naming the iss and two DIDs: refused (issuer_certificate_invalid)', async () => {
      expect(await presentForged({ uris: [ci('buergerbuero'), stack.officeDid('buergerbuero'), stack.officeDid('standesamt')] })).toEqual(['issuer_certificate_invalid']);
    });

    it('a city-CA leaf naming the right office for a key its DID document does not list: refused (issuer_certificate_invalid)', async () => {
      // The header kid names the office's real key (from its DID document); the certificate certifies ours.
      const doc = (await (await fetch(`${stack.urls.issuer}/offices/buergerbuero/did.json`)).json()) as { assertionMethod: (string | { id: string })[] };
      const first = doc.assertionMethod[0]!;
      const kid = typeof first === 'string' ? first : first.id;
      expect(kid.startsWith(`${stack.officeDid('buergerbuero')}#`)).toBe(true);
      expect(await presentForged({ uris: [ci('buergerbuero'), stack.officeDid('buergerbuero')], kid })).toEqual(['issuer_certificate_invalid']);
      // A kid the document does not know at all: no key, no signature.
      expect(await presentForged({ uris: [ci('buergerbuero'), stack.officeDid('buergerbuero')] })).toEqual(['invalid_signature']);
    });

    it('a city-CA leaf naming a DID the registry does not know: refused before anything is fetched (untrusted_issuer)', async () => {
      expect(await presentForged({ uris: [ci('buergerbuero'), 'did:web:localhost%3A9:offices:falsch'] })).toEqual(['untrusted_issuer']);
    });
  });

  it('our wallet core receives it (chain checked against its trusted CA; registry asked about the DID) and presents it: verified', async () => {
    const ctx = await openWallet({ dir: mkdtempSync(join(tmpdir(), 'idideal-https-iss-wallet-')), passphrase: 'korrekt-pferd-batterie', registryUrl: stack.urls.registry, allowLocalHttp: true, trustedCas: () => [cityCa.root] });
    const o = await offer();
    const r = await receive(ctx, o.credential_offer, o.tx_code);
    expect(r.warnings).toEqual([]);
    expect(r.credentials.length).toBeGreaterThan(0);
    expect(r.credentials[0]).toMatchObject({ issuer: stack.officeDid('buergerbuero'), type: VCT.meldebescheinigung });
    expect(r.credentials[0]!.issuerName?.de).toBeTruthy();
    expect(decodeJwt(r.credentials[0]!.raw.split('~')[0]!).iss).toBe(ci('buergerbuero'));
    const req = await (await stack.admin('verifier', '/api/verifiers/buergerbuero/requests', { template: 'meldebescheinigung' })).json();
    const plan = await preparePresentation(ctx, req.authorization_request);
    await sendPresentation(ctx, plan);
    const out = await (await stack.admin('verifier', `/api/verifiers/buergerbuero/requests/${req.request_id}`)).json();
    expect(out.status, JSON.stringify(out.result?.errors)).toBe('verified');
    expect(out.result.credentials[0].issuer).toBe(stack.officeDid('buergerbuero'));
  });

  it('our wallet core refuses it when its trusted CA is another one (nothing stored), and without any CA takes it through the certificate’s DID', async () => {
    const other = (await demoCa()).root;
    const strict = await openWallet({ dir: mkdtempSync(join(tmpdir(), 'idideal-https-iss-wallet-')), passphrase: 'korrekt-pferd-batterie', registryUrl: stack.urls.registry, allowLocalHttp: true, trustedCas: () => [other] });
    const o = await offer();
    const err = await receive(strict, o.credential_offer, o.tx_code).then(() => undefined, (e: unknown) => e as { code?: string; message: string });
    expect(err?.code).toBe('invalid_credential');
    expect(err?.message).toContain('certificate_untrusted');
    expect(err?.message).toContain('Nichts wurde gespeichert. / Nothing was stored.');
    expect(strict.store.snapshot.credentials).toHaveLength(0);

    const bare = await openWallet({ dir: mkdtempSync(join(tmpdir(), 'idideal-https-iss-wallet-')), passphrase: 'korrekt-pferd-batterie', registryUrl: stack.urls.registry, allowLocalHttp: true });
    const o2 = await offer();
    const r = await receive(bare, o2.credential_offer, o2.tx_code);
    expect(r.credentials[0]).toMatchObject({ issuer: stack.officeDid('buergerbuero') });
    expect(r.credentials[0]!.issuerName).toBeDefined();
  });
});
