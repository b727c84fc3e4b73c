import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, decodeProtectedHeader, generateKeyPair, SignJWT } from 'jose';
import { signJwt, verifyJwt } from '../../core/crypto/jws.ts';
import { VCT } from '../../core/demo/leipzig.ts';
import { createDidResolver, resolveAssertionKey } from '../../core/did/resolver.ts';
import { createLogger } from '../../core/log/logger.ts';
import { loadIssuerConfig } from '../../issuer/config.ts';
import { startIssuer } from '../../issuer/service.ts';
import { loadRegistryConfig } from '../../trust-registry/config.ts';
import { startRegistry } from '../../trust-registry/service.ts';
import { loadVerifierConfig } from '../../verifier/config.ts';
import { startVerifier } from '../../verifier/service.ts';
import { VerifierInfoClient } from '../../verifier/verifier-info.ts';
import { TrustAnchors } from '../../core/x509/trust-anchors.ts';
import { preparePresentation, sendPresentation, type PresentationPlan } from '../../wallet-demo/core/present.ts';
import { receive } from '../../wallet-demo/core/receive.ts';
import { openWallet, type WalletContext } from '../../wallet-demo/core/wallet.ts';
import { freePort } from '../helpers/net.ts';
import { TOKENS } from '../helpers/stack.ts';

/**
 * Issue 17 (HAIP 1.0), OID4VP 1.0 §5.1 `verifier_info`: the trust registry signs a relying party's
 * registration (types, claims, purpose); the verifier sends it in its Request Object; the wallet checks
 * it against the registry key it trusts and the request's client, and checks the DCQL query against it
 * offline. Real registry, issuer and verifier on loopback; the wallet core in-process.
 */
const TYP = 'verifier-registration+jwt';
const CARD = { ausweisnummer: 'LSB-4711', nutzergruppe: 'erwachsen', gueltig_bis: '2028-12-31', vorname: 'Erika', familienname: 'Mustermann', geburtsdatum: '1990-04-01' };

type Started<T extends (...a: never[]) => Promise<unknown>> = Awaited<ReturnType<T>>;

describe('verifier_info: the registry’s registration attestation in the request (OID4VP 1.0 §5.1)', () => {
  let registry: Started<typeof startRegistry>;
  let verifier: Started<typeof startVerifier>;
  let issuer: Started<typeof startIssuer>;
  let urls: { registry: string; issuer: string; verifier: string };
  let registryDid: string;
  let rpDid: (slug: string) => string;
  let ctx: WalletContext;
  /** Online registry lookups of the wallet (snapshot index), counted. */
  let lookups = 0;
  let registryStopped = false;

  beforeAll(async () => {
    const [r, i, v] = await Promise.all([freePort(), freePort(), freePort()]);
    urls = { registry: `http://localhost:${r}`, issuer: `http://localhost:${i}`, verifier: `http://localhost:${v}` };
    registryDid = `did:web:localhost%3A${r}`;
    rpDid = (slug) => `did:web:localhost%3A${v}:verifiers:${slug}`;
    const env = {
      DATA_DIR: mkdtempSync(join(tmpdir(), 'idideal-vinfo-')),
      REGISTRY_PORT: String(r),
      ISSUER_PORT: String(i),
      VERIFIER_PORT: String(v),
      REGISTRY_PUBLIC_URL: urls.registry,
      ISSUER_PUBLIC_URL: urls.issuer,
      VERIFIER_PUBLIC_URL: urls.verifier,
      REGISTRY_ADMIN_TOKEN: TOKENS.registry,
      ISSUER_ADMIN_TOKEN: TOKENS.issuer,
      VERIFIER_ADMIN_TOKEN: TOKENS.verifier,
      KEY_ENCRYPTION_SECRET: 'c'.repeat(64),
      RATE_LIMIT_PUBLIC: '10000000',
      RATE_LIMIT_TRQP: '10000000',
      // The last test stops the registry: the verifier keeps relying on the snapshot it has (its own offline trust).
      VERIFIER_TRUST_MAX_AGE: '600',
      // HAIP: the Bürgerbüro counter names itself x509_hash:<certificate hash> (demo city CA in DATA_DIR).
      VERIFIER_X509_HASH_CLIENTS: 'buergerbuero',
    };
    const level = process.env.TEST_LOG_LEVEL ?? 'silent';
    registry = await startRegistry(loadRegistryConfig(env), createLogger('trust-registry', level));
    issuer = await startIssuer(loadIssuerConfig(env), createLogger('issuer', level));
    verifier = await startVerifier(loadVerifierConfig(env), createLogger('verifier', level));
    const anchors = TrustAnchors.fromEnv('WALLET_TRUSTED_CA_FILES', {}, { mode: 'demo', dataDir: env.DATA_DIR });
    ctx = await openWallet({ dir: mkdtempSync(join(tmpdir(), 'idideal-vinfo-wallet-')), passphrase: 'korrekt-pferd-batterie', registryUrl: urls.registry, allowLocalHttp: true, trustedCas: () => anchors.list() });
    const online = ctx.trust;
    ctx.trust = { index: () => (lookups++, online.index()), refresh: () => online.refresh(), get payload() { return online.payload; } } as never;
  });
  afterAll(async () => {
    await verifier?.close();
    await issuer?.close();
    if (!registryStopped) await registry?.close();
  });

  const admin = (service: 'registry' | 'verifier' | 'issuer', path: string, body?: unknown) =>
    fetch(urls[service] + path, { method: body === undefined ? 'GET' : 'POST', headers: { authorization: `Bearer ${TOKENS[service]}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const attestationOf = (did: string) => fetch(`${urls.registry}/verifier-attestations?entity_id=${encodeURIComponent(did)}`);
  const registryKey = async (kid: string) => resolveAssertionKey(createDidResolver(), kid, registryDid);
  const newRequest = async (slug: string, template: string) => {
    const res = await admin('verifier', `/api/verifiers/${slug}/requests`, { template });
    expect(res.status, await res.clone().text()).toBe(201);
    return (await res.json()) as { request_id: string; authorization_request: string };
  };
  const requestObjectOf = async (link: string) => decodeJwt(await (await fetch(new URL(link).searchParams.get('request_uri')!)).text());
  const refusal = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as { code?: string; message: string });
  /** Sends a request whose Request Object carries `verifierInfo` instead of what the verifier fetched (a misbehaving or compromised counter). */
  async function withVerifierInfo<T>(verifierInfo: unknown, run: () => Promise<T>): Promise<T> {
    const real = verifier.deps.verifierInfo;
    verifier.deps.verifierInfo = { verifierInfo: async () => verifierInfo } as never;
    try {
      return await run();
    } finally {
      verifier.deps.verifierInfo = real;
    }
  }

  it('the registry signs a relying party’s registration with its key: typ, iss, sub, purpose, claims, a day at most', async () => {
    const res = await attestationOf(rpDid('bibliothek'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/jwt/);
    const jwt = await res.text();
    const header = decodeProtectedHeader(jwt);
    expect(header).toMatchObject({ alg: 'ES256', typ: TYP });
    expect(String(header.kid).startsWith(`${registryDid}#`)).toBe(true);
    // The same key as the registry's signed TRQP answers.
    const trqp = await fetch(`${urls.registry}/trqp/authorization`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/jwt' }, body: JSON.stringify({ entity_id: rpDid('bibliothek'), authority_id: `${registryDid}:authorities:leipzig`, action: 'verify', resource: VCT.bibliotheksausweis }) });
    expect(decodeProtectedHeader(await trqp.text()).kid).toBe(header.kid);
    const { payload } = await verifyJwt(jwt, await registryKey(String(header.kid)), { typ: TYP, issuer: registryDid, subject: rpDid('bibliothek') });
    expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(24 * 3600);
    expect(payload.exp! - payload.iat!).toBeGreaterThan(3600);
    expect(payload).toMatchObject({ status: 'active', authority_id: `${registryDid}:authorities:leipzig`, name: { de: expect.stringContaining('Bibliotheken'), en: expect.stringContaining('Libraries') } });
    const creds = payload.credentials as { vct: string; claims?: unknown[]; purpose?: unknown; w3c_types?: string[] }[];
    expect(creds.map((c) => c.vct).sort()).toEqual([VCT.bibliotheksausweis, VCT.leipzig_pass, VCT.meldebescheinigung].sort());
    expect(creds.find((c) => c.vct === VCT.bibliotheksausweis)?.w3c_types).toContain('Bibliotheksausweis');
    expect(creds.find((c) => c.vct === VCT.leipzig_pass)).toEqual({ vct: VCT.leipzig_pass, claims: [['ermaessigungsberechtigt'], ['gueltig_bis']], purpose: { de: 'Ermäßigte Gebühr für den Bibliotheksausweis', en: 'Reduced fee for the library card' } });
    // Only the relying party's own registrations: nothing about the Geburtsurkunde it may not ask.
    expect(JSON.stringify(payload)).not.toContain('geburtsurkunde');
  });

  it('answers problem JSON for a malformed query, an unknown relying party and an office that is no relying party', async () => {
    const bad = await fetch(`${urls.registry}/verifier-attestations?entity_id=not-a-did`);
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const twice = await fetch(`${urls.registry}/verifier-attestations?entity_id=${encodeURIComponent(rpDid('bibliothek'))}&entity_id=${encodeURIComponent(rpDid('bibliothek'))}`);
    expect(twice.status).toBe(400);
    const unknown = await attestationOf(rpDid('schwimmbad'));
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).type).toBe('urn:id-ideal:problem:unknown-relying-party');
    expect((await attestationOf(`did:web:localhost%3A${new URL(urls.issuer).port}:offices:bibliothek`)).status).toBe(404);
  });

  it('the verifier puts it into its signed Request Object as verifier_info [{format: "jwt", data}]', async () => {
    const r = await newRequest('bibliothek', 'anmeldung_bibliothek');
    const payload = await requestObjectOf(r.authorization_request);
    const info = payload.verifier_info as { format: string; data: string }[];
    expect(info).toHaveLength(1);
    expect(info[0]!.format).toBe('jwt');
    const { payload: att } = await verifyJwt(info[0]!.data, await registryKey(String(decodeProtectedHeader(info[0]!.data).kid)), { typ: TYP, issuer: registryDid, subject: rpDid('bibliothek') });
    expect((att.credentials as { vct: string; purpose: { de: string } }[]).find((c) => c.vct === VCT.meldebescheinigung)?.purpose.de).toBe('Anmeldung für einen Bibliotheksausweis');
  });

  it('the wallet accepts a request within the registration without asking the registry, shows the registered purpose, and the verifier verifies', async () => {
    const offer = await (await admin('issuer', '/api/offices/bibliothek/offers', { credential_configuration_id: 'bibliotheksausweis_sd_jwt', claims: CARD })).json();
    await receive(ctx, offer.credential_offer, offer.tx_code);
    const r = await newRequest('bibliothek', 'bibliotheksausweis');
    lookups = 0;
    const plan = await preparePresentation(ctx, r.authorization_request);
    expect(lookups, 'the wallet asked the registry online').toBe(0);
    expect(plan).toMatchObject({ verifier: rpDid('bibliothek'), registered: true, attested: true, warnings: [], purpose: { de: 'Ausleihe und Rückgabe von Medien', en: 'Lending and returning media' } });
    expect(plan.verifierName?.de).toContain('Bibliotheken');
    await sendPresentation(ctx, plan);
    const out = await (await admin('verifier', `/api/verifiers/bibliothek/requests/${r.request_id}`)).json();
    expect(out.status, JSON.stringify(out)).toBe('verified');
  });

  it('an x509_hash counter: the attestation is bound to the DID its certificate names', async () => {
    const r = await newRequest('buergerbuero', 'meldebescheinigung');
    expect(r.authorization_request).toMatch(/client_id=x509_hash%3A/);
    const info = (await requestObjectOf(r.authorization_request)).verifier_info as { data: string }[];
    expect(decodeJwt(info[0]!.data).sub).toBe(rpDid('buergerbuero'));
    lookups = 0;
    const plan = await preparePresentation(ctx, r.authorization_request);
    expect(lookups).toBe(0);
    expect(plan).toMatchObject({ verifier: rpDid('buergerbuero'), registered: true, attested: true, purpose: { en: 'Residence registration matters' } });
    // The library's genuine attestation in the Bürgerbüro's certified request: another organisation.
    const lib = await (await attestationOf(rpDid('bibliothek'))).text();
    const r2 = await withVerifierInfo([{ format: 'jwt', data: lib }], () => newRequest('buergerbuero', 'meldebescheinigung'));
    const err = await withVerifierInfo([{ format: 'jwt', data: lib }], () => refusal(preparePresentation(ctx, r2.authorization_request)));
    expect(err?.code).toBe('invalid_verifier_info');
  });

  it('without verifier_info the wallet asks the registry online, as before', async () => {
    const r = await withVerifierInfo(undefined, () => newRequest('bibliothek', 'bibliotheksausweis'));
    const plan = await withVerifierInfo(undefined, async () => {
      expect((await requestObjectOf(r.authorization_request)).verifier_info).toBeUndefined();
      lookups = 0;
      return preparePresentation(ctx, r.authorization_request);
    });
    expect(lookups).toBeGreaterThan(0);
    expect(plan.registered).toBe(true);
    expect(plan.attested).toBeUndefined();
    expect(plan.purpose?.en).toBe('Lending and returning media');
  });

  it('refuses, citing the attestation, a request for a claim outside the registration', async () => {
    // The verifier's own check refuses such a request (403) …
    const asked = { credentials: [{ id: 'pass', format: 'dc+sd-jwt', meta: { vct_values: [VCT.leipzig_pass] }, claims: [{ path: ['ermaessigungsberechtigt'] }, { path: ['passnummer'] }] }] };
    const refused = await admin('verifier', '/api/verifiers/bibliothek/requests', { dcql_query: asked });
    expect(refused.status).toBe(403);
    // … so a counter that skips it is played by writing the request straight into its store.
    const id = crypto.randomUUID();
    await verifier.deps.store.insertRequest({ id, rp: 'bibliothek', nonce: 'n'.repeat(32), state: 's'.repeat(32), dcql_query: JSON.stringify(asked), response_mode: 'direct_post', enc_key_sealed: null, status: 'pending', result_sealed: null, created_at: new Date().toISOString(), expires_at: Date.now() + 300_000, result_expires_at: null });
    const link = `openid4vp://?client_id=${encodeURIComponent(`decentralized_identifier:${rpDid('bibliothek')}`)}&request_uri=${encodeURIComponent(`${urls.verifier}/verifiers/bibliothek/requests/${id}/request.jwt`)}`;
    lookups = 0;
    const plan: PresentationPlan = await preparePresentation(ctx, link);
    expect(lookups).toBe(0);
    expect(plan.registered).toBe(false);
    expect(plan.attested).toBe(true);
    expect(plan.warnings).toHaveLength(1);
    expect(plan.warnings[0]).toMatch(/^Fragt mehr ab, als ihre Registrierungsbescheinigung des Vertrauensregisters erlaubt: passnummer\. \/ Asks for more than its registration attestation from the trust registry allows: passnummer\.$/);
    // Nothing leaves the wallet for an unregistered plan: the web wallet and the CLI refuse it before consent.
    expect(plan.canSatisfy).toBe(false);
  });

  it('refuses a forged attestation (same kid and payload, signed by another key; or unsigned)', async () => {
    const genuine = await (await attestationOf(rpDid('bibliothek'))).text();
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT(decodeJwt(genuine)).setProtectedHeader(decodeProtectedHeader(genuine) as never).sign(privateKey);
    const [, body] = genuine.split('.');
    const unsigned = `${Buffer.from(JSON.stringify({ ...decodeProtectedHeader(genuine), alg: 'none' })).toString('base64url')}.${body}.`;
    for (const data of [forged, unsigned]) {
      const r = await withVerifierInfo([{ format: 'jwt', data }], () => newRequest('bibliothek', 'bibliotheksausweis'));
      lookups = 0;
      const err = await withVerifierInfo([{ format: 'jwt', data }], () => refusal(preparePresentation(ctx, r.authorization_request)));
      expect(err?.code).toBe('invalid_verifier_info');
      expect(err?.message).toMatch(/gefälscht.* \/ .*forged/);
      expect(lookups).toBe(0);
    }
  });

  it('refuses an expired attestation signed by the registry', async () => {
    const genuine = decodeJwt(await (await attestationOf(rpDid('bibliothek'))).text());
    const past = Math.floor(Date.now() / 1000) - 2 * 86_400;
    const expired = await signJwt(registry.registry.deps.identity.signer, { ...genuine, iat: past, exp: past + 86_400 }, { typ: TYP });
    const r = await withVerifierInfo([{ format: 'jwt', data: expired }], () => newRequest('bibliothek', 'bibliotheksausweis'));
    const err = await withVerifierInfo([{ format: 'jwt', data: expired }], () => refusal(preparePresentation(ctx, r.authorization_request)));
    expect(err?.code).toBe('invalid_verifier_info');
    expect(err?.message).toMatch(/abgelaufen.* \/ .*expired/);
  });

  it('refuses a genuine attestation of another relying party (sub is not the request’s client)', async () => {
    const other = await (await attestationOf(rpDid('buergerbuero'))).text();
    expect(decodeJwt(other).sub).toBe(rpDid('buergerbuero'));
    const r = await withVerifierInfo([{ format: 'jwt', data: other }], () => newRequest('bibliothek', 'bibliotheksausweis'));
    const err = await withVerifierInfo([{ format: 'jwt', data: other }], () => refusal(preparePresentation(ctx, r.authorization_request)));
    expect(err?.code).toBe('invalid_verifier_info');
    expect(err?.message).toMatch(/andere Stelle.* \/ .*another organisation/);
  });

  it('ignores attestations of other formats and ecosystems (§"Verifier Info": SHOULD ignore) and asks the registry online', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const foreign = await new SignJWT({ iss: 'did:web:registry.example', sub: rpDid('bibliothek') }).setProtectedHeader({ alg: 'ES256', typ: TYP, kid: 'did:web:registry.example#k' }).sign(privateKey);
    const info = [{ format: 'registration_cert', data: { anything: true } }, { format: 'jwt', data: foreign }];
    const r = await withVerifierInfo(info, () => newRequest('bibliothek', 'bibliotheksausweis'));
    lookups = 0;
    const plan = await withVerifierInfo(info, () => preparePresentation(ctx, r.authorization_request));
    expect(lookups).toBeGreaterThan(0);
    expect(plan.registered).toBe(true);
    expect(plan.attested).toBeUndefined();
  });

  it('a suspended or revoked registration gets no attestation; the verifier then sends none and logs a warning', async () => {
    /** A new relying party registered to ask one claim of the Leipzig-Pass; returns its grant's id. */
    const register = async (did: string) => {
      expect((await admin('registry', '/api/entities', { id: did, kind: 'verifier', name: { de: 'Schwimmbad Kasse', en: 'Pool till' } })).status).toBe(201);
      const grant = await admin('registry', '/api/grants', { authority_id: `${registryDid}:authorities:leipzig`, entity_id: did, action: 'verify', resource: VCT.leipzig_pass, constraints: { claims: [['ermaessigungsberechtigt']], purpose: { de: 'Ermäßigter Eintritt', en: 'Reduced admission' } } });
      expect(grant.status, await grant.clone().text()).toBe(201);
      return (await grant.json()).id as string;
    };
    const did = 'did:web:schwimmbad.example:verifiers:kasse';
    const grantId = await register(did);
    const warnings: Record<string, unknown>[] = [];
    const logger = { warn: (o: Record<string, unknown>) => warnings.push(o) } as never;
    const client = new VerifierInfoClient({ registryUrl: urls.registry, logger, backoffMs: 1 });
    expect(decodeJwt((await client.attestation(did))!).sub).toBe(did);
    expect((await attestationOf(did)).status).toBe(200);

    expect((await admin('registry', `/api/grants/${grantId}/status`, { status: 'suspended', reason: 'Prüfung' })).status).toBe(200);
    const suspended = await attestationOf(did);
    expect(suspended.status).toBe(409);
    expect(suspended.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect((await suspended.json()).type).toBe('urn:id-ideal:problem:registration-suspended');
    // The verifier's fresh copy is cached; a new client (or the old one after expiry) gets nothing and says so.
    const fresh = new VerifierInfoClient({ registryUrl: urls.registry, logger });
    expect(await fresh.verifierInfo(did)).toBeUndefined();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toEqual({ relying_party: did, reason: 'registry answered HTTP 409', retry_in_s: expect.any(Number) });

    const other = 'did:web:schwimmbad.example:verifiers:automat';
    const otherGrant = await register(other);
    expect((await attestationOf(other)).status).toBe(200);
    expect((await admin('registry', `/api/grants/${otherGrant}/status`, { status: 'revoked', reason: 'Vertrag beendet' })).status).toBe(200);
    const revoked = await attestationOf(other);
    expect(revoked.status).toBe(409);
    expect((await revoked.json()).type).toBe('urn:id-ideal:problem:registration-revoked');
  });

  it('the verifier caches the attestation, refetches shortly before exp, and backs off while the registry fails', async () => {
    let now = Date.now();
    let fetches = 0;
    let down = false;
    const logger = { warn: () => undefined } as never;
    const client = new VerifierInfoClient({
      registryUrl: urls.registry,
      logger,
      clock: () => now,
      backoffMs: 10_000,
      fetch: (url, init) => {
        fetches++;
        return down ? Promise.reject(new Error('down')) : fetch(url, init);
      },
    });
    const first = await client.attestation(rpDid('bibliothek'));
    expect(first).toBeDefined();
    expect(await client.attestation(rpDid('bibliothek'))).toBe(first);
    expect(fetches).toBe(1);
    const exp = decodeJwt(first!).exp! * 1000;
    // Within the last five minutes before exp: fetched again; the registry is down, the cached one still has > 1 min.
    now = exp - 200_000;
    down = true;
    expect(await client.attestation(rpDid('bibliothek'))).toBe(first);
    expect(fetches).toBe(2);
    // Backing off: no new fetch for 10 s, then one, then 20 s.
    now += 5_000;
    await client.attestation(rpDid('bibliothek'));
    expect(fetches).toBe(2);
    now += 6_000;
    await client.attestation(rpDid('bibliothek'));
    expect(fetches).toBe(3);
    now += 15_000;
    await client.attestation(rpDid('bibliothek'));
    expect(fetches).toBe(3);
    // Less than a minute left: not sent any more.
    now = exp - 30_000;
    expect(await client.attestation(rpDid('bibliothek'))).toBeUndefined();
  });

  it('with the registry stopped, a request within the registration is still accepted and verified (offline)', async () => {
    const r = await newRequest('bibliothek', 'bibliotheksausweis');
    await registry.close();
    registryStopped = true;
    expect(await fetch(`${urls.registry}/health`).then(() => 'up', () => 'down')).toBe('down');
    lookups = 0;
    const plan = await preparePresentation(ctx, r.authorization_request);
    expect(lookups).toBe(0);
    expect(plan).toMatchObject({ registered: true, attested: true, purpose: { de: 'Ausleihe und Rückgabe von Medien' } });
    // The verifier's request object was built from its cached attestation, without the registry.
    const again = await newRequest('bibliothek', 'bibliotheksausweis');
    expect((await requestObjectOf(again.authorization_request)).verifier_info).toHaveLength(1);
    await sendPresentation(ctx, plan);
    const out = await (await admin('verifier', `/api/verifiers/bibliothek/requests/${r.request_id}`)).json();
    expect(out.status, JSON.stringify(out)).toBe('verified');
  });
});
