import { createHash, randomBytes } from 'node:crypto';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, TOKENS, type Stack } from '../helpers/stack.ts';
import { freePort } from '../helpers/net.ts';
import { startDemoIdp, TestBrowser } from '../helpers/demo-idp.ts';
import { dropSchemas } from '../helpers/pg-schemas.ts';
import { MELDE } from '../helpers/fixtures.ts';
import { dpopProof, keyProof, newKey, thumbprint, type Key } from './oauth-flow.ts';

/**
 * OID4VCI 1.0 §5.1.1 `authorization_details` (RFC 9396) of type `openid_credential` at PAR, §6.2
 * `credential_identifiers` in the token response and §8.2 `credential_identifier` in the credential
 * request (issue 17, HAIP wallets such as the EUDI reference wallet ask this way). The real stack and
 * the real demo IdP (its own process); the wallet is plain HTTP, so each test can get one thing wrong.
 * Credo 0.6.3 cannot take part: it asks by `scope` only (OpenId4VciHolderService.resolveAuthorizationRequest)
 * and requests credentials by `credential_configuration_id` only. With TEST_DATABASE_URL (CI) the stack
 * runs on PostgreSQL, so migration 0014 and the stored details are proven there; on SQLite otherwise
 * (and by tests/haip/auth-code-flow.test.ts).
 */
const pgUrl = process.env.TEST_DATABASE_URL;
const pgPrefix = `t${randomBytes(4).toString('hex')}_`;

const OFFICE = 'buergerbuero';
const CONFIG = 'meldebescheinigung_sd_jwt';
const CLIENT = 'eudi-like-wallet';
const REDIRECT = 'https://wallet.example/cb';
const SECRET = 'c'.repeat(64); // the stack's KEY_ENCRYPTION_SECRET: the demo client secret is derived from it

const detail = (o: Record<string, unknown> = {}) => JSON.stringify([{ type: 'openid_credential', credential_configuration_id: CONFIG, ...o }]);

describe('HAIP: authorization_details with credential_identifiers (OID4VCI 1.0 §5.1.1, §6.2, §8.2)', () => {
  let stack: Stack;
  let idp: Awaited<ReturnType<typeof startDemoIdp>>;
  const base = (slug = OFFICE) => `${stack.urls.issuer}/offices/${slug}`;

  beforeAll(async () => {
    const idpPort = await freePort();
    const db: Record<string, string> = pgUrl ? { DATABASE_URL: pgUrl, DATABASE_SCHEMA_PREFIX: pgPrefix } : {};
    stack = await startStack({ env: { IDP_PUBLIC_URL: `http://localhost:${idpPort}`, ISSUER_TRUST_MAX_AGE: '0', ...db } });
    idp = await startDemoIdp({ port: idpPort, issuerUrl: stack.urls.issuer, keyEncryptionSecret: SECRET });
  }, 120_000);
  afterAll(async () => {
    await idp?.stop();
    await stack?.close();
    if (pgUrl) await dropSchemas(pgUrl, pgPrefix);
  });

  const par = async (overrides: Record<string, string | undefined>, slug = OFFICE, headers: Record<string, string> = {}) => {
    const verifier = randomBytes(32).toString('base64url');
    const params: Record<string, string | undefined> = {
      response_type: 'code',
      client_id: CLIENT,
      redirect_uri: REDIRECT,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      state: `s-${randomBytes(4).toString('hex')}`,
      ...overrides,
    };
    const form = Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined)) as Record<string, string>;
    const res = await fetch(`${base(slug)}/par`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(form) });
    return { status: res.status, body: (await res.json()) as { request_uri: string; error?: string; error_description?: string }, verifier };
  };
  /** PAR, login as erika at the demo IdP, back with a code. */
  const authorize = async (overrides: Record<string, string | undefined>) => {
    const p = await par(overrides);
    expect(p.status, JSON.stringify(p.body)).toBe(201);
    const url = `${base()}/authorize?client_id=${encodeURIComponent(CLIENT)}&request_uri=${encodeURIComponent(p.body.request_uri)}`;
    const { walletRedirect } = await new TestBrowser().login(url, REDIRECT, 'erika', 'demo-leipzig');
    const code = walletRedirect.searchParams.get('code');
    expect(code, walletRedirect.href).toBeTruthy();
    return { code: code!, verifier: p.verifier };
  };
  const token = async (form: Record<string, string>, headers: Record<string, string> = {}) => {
    const res = await fetch(`${base()}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams({ grant_type: 'authorization_code', client_id: CLIENT, redirect_uri: REDIRECT, ...form }) });
    return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
  };
  const cNonce = async () => {
    const res = await fetch(`${base()}/nonce`, { method: 'POST' });
    return { cNonce: ((await res.json()) as { c_nonce: string }).c_nonce, dpopNonce: res.headers.get('dpop-nonce')! };
  };
  /** A credential request with one fresh key proof; `body` names the credential (identifier or configuration). */
  const credential = async (accessToken: string, body: Record<string, unknown>, o: { dpopKey?: Key } = {}) => {
    const key = await newKey();
    const nonces = await cNonce();
    const proof = await keyProof(key, { aud: base(), nonce: nonces.cNonce });
    const headers: Record<string, string> = { 'content-type': 'application/json', authorization: `${o.dpopKey ? 'DPoP' : 'Bearer'} ${accessToken}` };
    if (o.dpopKey) headers.DPoP = await dpopProof(o.dpopKey, { htm: 'POST', htu: `${base()}/credential`, nonce: nonces.dpopNonce, accessToken });
    const res = await fetch(`${base()}/credential`, { method: 'POST', headers, body: JSON.stringify({ ...body, proofs: { jwt: [proof] } }) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  type Granted = { type: string; credential_configuration_id: string; credential_identifiers: string[] };
  const granted = (body: Record<string, unknown>) => body.authorization_details as Granted[];
  /** The claims of an SD-JWT VC: the JWT's plain claims and every disclosure's name and value. */
  const sdJwtClaims = (sdJwt: string) => {
    const [jwt, ...disclosures] = sdJwt.split('~').filter((p) => p.length > 0);
    const out: Record<string, unknown> = { ...decodeJwt(jwt!) };
    for (const d of disclosures) {
      const arr = JSON.parse(Buffer.from(d, 'base64url').toString('utf8')) as unknown[];
      if (arr.length === 3) out[arr[1] as string] = arr[2];
    }
    return out;
  };

  it('announces authorization_details_types_supported openid_credential (RFC 9396 §10) for the self-service office only', async () => {
    const as = (await (await fetch(`${stack.urls.issuer}/.well-known/oauth-authorization-server/offices/${OFFICE}`)).json()) as Record<string, unknown>;
    expect(as.authorization_details_types_supported).toEqual(['openid_credential']);
    const other = (await (await fetch(`${stack.urls.issuer}/.well-known/oauth-authorization-server/offices/sozialamt`)).json()) as Record<string, unknown>;
    expect(other.authorization_details_types_supported).toBeUndefined();
  });

  it('PAR with authorization_details → login → token with credential_identifiers → credential by credential_identifier', async () => {
    const { code, verifier } = await authorize({ authorization_details: detail() });
    const t = await token({ code, code_verifier: verifier });
    expect(t.status, JSON.stringify(t.body)).toBe(200);
    // §6.2: one entry per requested entry, with a non-empty array of credential_identifiers.
    const details = granted(t.body);
    expect(details).toHaveLength(1);
    expect(details[0]).toMatchObject({ type: 'openid_credential', credential_configuration_id: CONFIG });
    expect(details[0]!.credential_identifiers).toHaveLength(1);
    const id = details[0]!.credential_identifiers[0]!;
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    // RFC 9396 §9.1: the JWT access token carries the same authorization_details.
    expect(decodeJwt(t.body.access_token as string).authorization_details).toEqual(details);

    const c = await credential(t.body.access_token as string, { credential_identifier: id });
    expect(c.status, JSON.stringify(c.body)).toBe(200);
    const issued = (c.body.credentials as { credential: string }[])[0]!.credential;
    expect(sdJwtClaims(issued)).toMatchObject({ vct: 'urn:id-ideal:vct:meldebescheinigung', vorname: 'Erika', familienname: 'Mustermann', wohnsitz_leipzig: true });
  });

  it('the same with a DPoP-bound token, and with scope and authorization_details naming the same configuration (the details govern, §5.1.2)', async () => {
    const dpopKey = await newKey();
    const { code, verifier } = await authorize({ authorization_details: detail({ locations: [base()], claims: [{ path: ['vorname'] }, { path: ['anschrift', 'ort'], mandatory: true }] }), scope: CONFIG, dpop_jkt: await thumbprint(dpopKey.publicJwk) });
    const { dpopNonce } = await cNonce();
    const t = await token({ code, code_verifier: verifier }, { DPoP: await dpopProof(dpopKey, { htm: 'POST', htu: `${base()}/token`, nonce: dpopNonce }) });
    expect(t.status, JSON.stringify(t.body)).toBe(200);
    expect(t.body.token_type).toBe('DPoP');
    const details = granted(t.body);
    expect(details[0]).toMatchObject({ type: 'openid_credential', credential_configuration_id: CONFIG, locations: [base()] });
    const c = await credential(t.body.access_token as string, { credential_identifier: details[0]!.credential_identifiers[0] }, { dpopKey });
    expect(c.status, JSON.stringify(c.body)).toBe(200);
  });

  it('the credential endpoint refuses an identifier not granted to this token, both identifier and configuration id, and the configuration id alone', async () => {
    const first = await authorize({ authorization_details: detail() });
    const a = await token({ code: first.code, code_verifier: first.verifier });
    const second = await authorize({ authorization_details: detail() });
    const b = await token({ code: second.code, code_verifier: second.verifier });
    const tokenA = a.body.access_token as string;
    const idA = granted(a.body)[0]!.credential_identifiers[0]!;
    const idB = granted(b.body)[0]!.credential_identifiers[0]!;
    expect(idA).not.toBe(idB);

    // §8.3.1.2 unknown_credential_identifier: made up, or another token's.
    const madeUp = await credential(tokenA, { credential_identifier: 'meldebescheinigung-1' });
    expect(madeUp.status).toBe(400);
    expect(madeUp.body.error).toBe('unknown_credential_identifier');
    const others = await credential(tokenA, { credential_identifier: idB });
    expect(others.status).toBe(400);
    expect(others.body.error).toBe('unknown_credential_identifier');
    // §8.2: credential_configuration_id MUST NOT be used when credential_identifiers were returned, with or without the identifier.
    const both = await credential(tokenA, { credential_identifier: idA, credential_configuration_id: CONFIG });
    expect(both.status).toBe(400);
    expect(both.body.error).toBe('invalid_credential_request');
    const byConfiguration = await credential(tokenA, { credential_configuration_id: CONFIG });
    expect(byConfiguration.status).toBe(400);
    expect(byConfiguration.body.error).toBe('invalid_credential_request');
    const neither = await credential(tokenA, {});
    expect(neither.body.error).toBe('invalid_credential_request');
    const notAString = await credential(tokenA, { credential_identifier: [idA] });
    expect(notAString.body.error).toBe('invalid_credential_request');
    // Nothing was issued by the refusals: the right identifier still works, once.
    const ok = await credential(tokenA, { credential_identifier: idA });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    const again = await credential(tokenA, { credential_identifier: idA });
    expect(again.status).toBe(401);
  });

  it('a scope authorization gets no credential_identifiers and may not use credential_identifier (§8.2 "MUST NOT be used otherwise")', async () => {
    const { code, verifier } = await authorize({ scope: CONFIG });
    const t = await token({ code, code_verifier: verifier });
    expect(t.status, JSON.stringify(t.body)).toBe(200);
    expect(t.body.authorization_details).toBeUndefined();
    expect(decodeJwt(t.body.access_token as string).authorization_details).toBeUndefined();
    const byId = await credential(t.body.access_token as string, { credential_identifier: 'anything' });
    expect(byId.status).toBe(400);
    expect(byId.body.error).toBe('invalid_credential_request');
    const byConfiguration = await credential(t.body.access_token as string, { credential_configuration_id: CONFIG });
    expect(byConfiguration.status, JSON.stringify(byConfiguration.body)).toBe(200);
  });

  it('authorization_details in the token request (§6.1, RFC 9396 §6.1): the authorized configuration gets identifiers, another one is refused', async () => {
    const s = await authorize({ scope: CONFIG });
    const same = await token({ code: s.code, code_verifier: s.verifier, authorization_details: detail() });
    expect(same.status, JSON.stringify(same.body)).toBe(200);
    expect(granted(same.body)[0]).toMatchObject({ credential_configuration_id: CONFIG });
    expect(granted(same.body)[0]!.credential_identifiers).toHaveLength(1);

    const o = await authorize({ authorization_details: detail() });
    const more = await token({ code: o.code, code_verifier: o.verifier, authorization_details: JSON.stringify([{ type: 'openid_credential', credential_configuration_id: 'leipzig_pass_sd_jwt' }]) });
    expect(more.status).toBe(400);
    expect(more.body.error).toBe('invalid_authorization_details');
    expect(more.body.access_token).toBeUndefined();
  });

  it('PAR refuses unknown configurations, unknown types and malformed or contradictory details with invalid_authorization_details (RFC 9396 §5)', async () => {
    const refused = async (authorization_details: string, extra: Record<string, string> = {}) => {
      const p = await par({ authorization_details, ...extra });
      expect(p.status, authorization_details).toBe(400);
      return p.body;
    };
    expect((await refused(JSON.stringify([{ type: 'openid_credential', credential_configuration_id: 'no_such_configuration' }]))).error).toBe('invalid_authorization_details');
    // A configuration of another office.
    expect((await refused(JSON.stringify([{ type: 'openid_credential', credential_configuration_id: 'leipzig_pass_sd_jwt' }]))).error).toBe('invalid_authorization_details');
    expect((await refused(JSON.stringify([{ type: 'payment_initiation', credential_configuration_id: CONFIG }]))).error).toBe('invalid_authorization_details');
    expect((await refused(JSON.stringify([{ credential_configuration_id: CONFIG }]))).error).toBe('invalid_authorization_details');
    expect((await refused(JSON.stringify([{ type: 'openid_credential' }]))).error).toBe('invalid_authorization_details');
    expect((await refused(JSON.stringify([{ type: 'openid_credential', credential_configuration_id: 7 }]))).error).toBe('invalid_authorization_details');
    expect((await refused('not json')).error).toBe('invalid_authorization_details');
    expect((await refused('[]')).error).toBe('invalid_authorization_details');
    expect((await refused(JSON.stringify({ type: 'openid_credential', credential_configuration_id: CONFIG }))).error).toBe('invalid_authorization_details');
    expect((await refused(JSON.stringify([{ type: 'openid_credential', credential_configuration_id: CONFIG }, { type: 'openid_credential', credential_configuration_id: CONFIG }]))).error).toBe('invalid_authorization_details');
    expect((await refused(detail({ locations: ['https://other-issuer.example'] }))).error).toBe('invalid_authorization_details');
    // Claims description processing rules: a repeated claim, null and an index into one array, array vs object.
    expect((await refused(detail({ claims: [{ path: ['vorname'] }, { path: ['vorname'] }] }))).error).toBe('invalid_authorization_details');
    expect((await refused(detail({ claims: [{ path: ['a', null] }, { path: ['a', 0] }] }))).error).toBe('invalid_authorization_details');
    expect((await refused(detail({ claims: [{ path: ['a', 0] }, { path: ['a', 'b'] }] }))).error).toBe('invalid_authorization_details');
    expect((await refused(detail({ claims: [] }))).error).toBe('invalid_authorization_details');
    expect((await refused(detail({ claims: [{ path: [] }] }))).error).toBe('invalid_authorization_details');
    // A scope the office does not serve beside the details stays invalid_scope, as without them.
    expect((await refused(detail(), { scope: 'leipzig_pass_sd_jwt' })).error).toBe('invalid_scope');
    // Unknown members of an openid_credential entry are ignored (§5.1.1), as is a claims request that is merely odd.
    expect((await par({ authorization_details: detail({ format: 'dc+sd-jwt', something_new: { x: 1 }, claims: [{ path: ['anschrift'] }, { path: ['anschrift', 'ort'] }] }) })).status).toBe(201);
  });

  it('PAR refuses a configuration the office has but does not serve by self-service, and two configurations by scope and details', async () => {
    const ad = (id: string) => JSON.stringify([{ type: 'openid_credential', credential_configuration_id: id }]);
    /** Opens self-service at the library office (two configurations) for `configurations`, waits until PAR serves the first. */
    const selfService = async (configurations: string[]) => {
      const catalog = (await (await stack.admin('issuer', '/api/catalog')).json()) as { offices: Record<string, unknown>[] };
      const def = catalog.offices.find((o) => o.slug === 'bibliothek')!;
      const put = await fetch(`${stack.urls.issuer}/api/catalog/offices/bibliothek`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${TOKENS.issuer}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ...def, self_service: { configurations, claims: { vorname: 'given_name', familienname: 'family_name' } } }),
      });
      expect(put.status, await put.text()).toBeLessThan(300);
      // Other workers see a catalogue change within CATALOG_REFRESH seconds (docs/contract.md).
      let probe = await par({ authorization_details: ad(configurations.at(-1)!) }, 'bibliothek');
      for (let i = 0; i < 40 && probe.status !== 201; i++) {
        await new Promise((r) => setTimeout(r, 200));
        probe = await par({ authorization_details: ad(configurations.at(-1)!) }, 'bibliothek');
      }
      expect(probe.status, JSON.stringify(probe.body)).toBe(201);
    };
    await selfService(['bibliotheksausweis_sd_jwt']);
    const notServed = await par({ authorization_details: ad('bibliotheksausweis_jwt_vc') }, 'bibliothek');
    expect(notServed.status).toBe(400);
    expect(notServed.body.error).toBe('invalid_authorization_details');
    expect(notServed.body.error_description).toContain('no self-service');

    // §5.1.2: scope and authorization_details are read individually; for two configurations that is
    // two credential datasets, and an authorization here stands for one.
    await selfService(['bibliotheksausweis_sd_jwt', 'bibliotheksausweis_jwt_vc']);
    const two = await par({ authorization_details: ad('bibliotheksausweis_jwt_vc'), scope: 'bibliotheksausweis_sd_jwt' }, 'bibliothek');
    expect(two.status).toBe(400);
    expect(two.body.error).toBe('invalid_request');
    expect((await par({ authorization_details: ad('bibliotheksausweis_jwt_vc'), scope: 'bibliotheksausweis_jwt_vc' }, 'bibliothek')).status).toBe(201);
  });
  it('pre-authorized code: authorization_details in the token request get credential_identifiers (§6.1, §6.2); another configuration is refused and spends nothing', async () => {
    const offer = async () => {
      const res = await stack.admin('issuer', `/api/offices/${OFFICE}/offers`, { credential_configuration_id: CONFIG, claims: MELDE });
      expect(res.status, await res.clone().text()).toBe(201);
      const o = (await res.json()) as { credential_offer_uri: string; tx_code: string };
      const object = (await (await fetch(o.credential_offer_uri)).json()) as { grants: Record<string, { 'pre-authorized_code': string }> };
      return { code: object.grants['urn:ietf:params:oauth:grant-type:pre-authorized_code']!['pre-authorized_code'], tx_code: o.tx_code };
    };
    const preAuth = (o: { code: string; tx_code: string }, extra: Record<string, string>) =>
      fetch(`${base()}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:pre-authorized_code', 'pre-authorized_code': o.code, tx_code: o.tx_code, ...extra }) });

    const o = await offer();
    const wrong = await preAuth(o, { authorization_details: JSON.stringify([{ type: 'openid_credential', credential_configuration_id: 'leipzig_pass_sd_jwt' }]) });
    expect(wrong.status).toBe(400);
    expect(((await wrong.json()) as { error: string }).error).toBe('invalid_authorization_details');
    // The refused request spent nothing: the same code still works, here with the offer's configuration.
    const t = await preAuth(o, { authorization_details: detail() });
    const body = (await t.json()) as Record<string, unknown>;
    expect(t.status, JSON.stringify(body)).toBe(200);
    const details = granted(body);
    expect(details[0]).toMatchObject({ type: 'openid_credential', credential_configuration_id: CONFIG });
    const id = details[0]!.credential_identifiers[0]!;
    expect(decodeJwt(body.access_token as string).authorization_details).toEqual(details);
    // §8.2: with identifiers granted, the request names the identifier, not the configuration.
    expect((await credential(body.access_token as string, { credential_configuration_id: CONFIG })).body.error).toBe('invalid_credential_request');
    const c = await credential(body.access_token as string, { credential_identifier: id });
    expect(c.status, JSON.stringify(c.body)).toBe(200);

    // Without authorization_details the pre-authorized flow is as before: no identifiers, by configuration id.
    const plain = await preAuth(await offer(), {});
    const plainBody = (await plain.json()) as Record<string, unknown>;
    expect(plain.status).toBe(200);
    expect(plainBody.authorization_details).toBeUndefined();
    expect((await credential(plainBody.access_token as string, { credential_configuration_id: CONFIG })).status).toBe(200);
  });
});
