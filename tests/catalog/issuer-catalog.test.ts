import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeProtectedHeader } from 'jose';
import { zCredentialTypeDef } from '../../core/catalog/model.ts';
import { typeMetadataIntegrity } from '../../core/catalog/type-metadata.ts';
import { LEIPZIG } from '../../core/demo/leipzig.ts';
import { createDidResolver, resolveAssertionKey } from '../../core/did/resolver.ts';
import { verifySdJwtVc } from '../../core/formats/sd-jwt-vc/index.ts';
import { createLogger } from '../../core/log/logger.ts';
import { loadIssuerConfig } from '../../issuer/config.ts';
import { startIssuer } from '../../issuer/service.ts';
import { freePort } from '../helpers/net.ts';
import { ISSUER_TOKEN, startTestIssuer, type RunningIssuer } from '../helpers/issuer.ts';
import { newHolderKey, testWallet } from '../helpers/oid4vci-wallet.ts';

/**
 * Issue 15, issuer side: offices and credential types as data. Through the admin APIs alone — the
 * registry's (entity, accreditation, issue grant) and the issuer's catalogue — a NEW office with a
 * NEW type (an enum, a date, a derived boolean, a claim never disclosable) issues over OID4VCI with
 * the test wallet. The registry stays the source of truth (409, nothing stored); an identical PUT
 * changes nothing; a second process on the same database follows within CATALOG_REFRESH.
 */
const VCT = 'urn:id-ideal:vct:archivausweis';
const label = (de: string, en: string) => ({ de, en });
const ARCHIVAUSWEIS = {
  id: 'archivausweis',
  vct: VCT,
  name: label('Archivausweis', 'Archive reader card'),
  description: label('Ausweis für die Lesesäle des Stadtarchivs', 'Reader card for the reading rooms of the city archives'),
  validity_days: 365,
  background_color: '#5a3e1b',
  text_color: '#ffffff',
  claims: [
    { name: 'vorname', type: 'string', label: label('Vorname', 'Given name') },
    { name: 'familienname', type: 'string', label: label('Familienname', 'Family name') },
    { name: 'geburtsdatum', type: 'date', label: label('Geburtsdatum', 'Date of birth') },
    { name: 'lesesaal', type: 'enum', label: label('Lesesaal', 'Reading room'), values: [{ value: 'hauptlesesaal', label: label('Hauptlesesaal', 'Main reading room') }, { value: 'sondersammlungen', label: label('Sondersammlungen', 'Special collections') }] },
    { name: 'volljaehrig', type: 'boolean', label: label('Volljährig', 'Of age'), derived: { rule: 'age_at_least', from: 'geburtsdatum', years: 18 } },
    { name: 'ausweisnummer', type: 'string', sd: 'never', max_length: 7, pattern: '[A-Z]{2}-[0-9]{4}', hint: label('zwei Buchstaben, Bindestrich, vier Ziffern', 'two letters, a hyphen, four digits'), label: label('Ausweisnummer', 'Card number') },
  ],
};
const STADTARCHIV = {
  slug: 'stadtarchiv',
  name: label('Stadtarchiv Leipzig', 'Leipzig City Archives'),
  department: 'dezernat-kultur',
  credential_configurations: [{ id: 'archivausweis_sd_jwt', type: 'archivausweis', format: 'dc+sd-jwt' }],
};
const READER = { vorname: 'Erika', familienname: 'Mustermann', geburtsdatum: '1990-04-01', lesesaal: 'sondersammlungen', ausweisnummer: 'LA-0042' };

describe('issuer catalogue: offices and credential types as data, checked against the registry', () => {
  let iss: RunningIssuer;
  let second: { url: string; close(): Promise<void> };
  const put = (base: string, path: string, body: unknown, token = ISSUER_TOKEN) =>
    fetch(base + path, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const catalog = async (base: string) => (await fetch(`${base}/api/catalog`, { headers: { authorization: `Bearer ${ISSUER_TOKEN}` } })).json();
  const auditLength = async () => (await (await iss.admin('/api/audit')).json()).entries.length as number;
  const metadata = async (base: string, slug: string) => fetch(`${base}/.well-known/openid-credential-issuer/offices/${slug}`);

  beforeAll(async () => {
    iss = await startTestIssuer({ env: { CATALOG_REFRESH: '1' } });
    // A second process on the same database and public URL (as ISSUER_WORKERS or a second instance),
    // started before any change below: it must learn of them from the revision alone.
    const port = await freePort();
    const env = { ISSUER_PUBLIC_URL: iss.url, ISSUER_PORT: String(port), REGISTRY_PUBLIC_URL: iss.registry.url, DATA_DIR: iss.registry.dataDir, ISSUER_ADMIN_TOKEN: ISSUER_TOKEN, KEY_ENCRYPTION_SECRET: 'a'.repeat(64), CATALOG_REFRESH: '1' };
    const s = await startIssuer(loadIssuerConfig(env), createLogger('issuer', 'silent'));
    second = { url: `http://localhost:${port}`, close: s.close };
  }, 120_000);
  afterAll(async () => {
    await second?.close();
    await iss?.close();
  });

  it('seeds Demo Leipzig into the empty catalogue on first start, and the second process does not seed again', async () => {
    const c = await catalog(iss.url);
    expect(c.offices.map((o: { slug: string }) => o.slug).sort()).toEqual(['bibliothek', 'buergerbuero', 'sozialamt', 'standesamt']);
    expect(c.credential_types.map((t: { id: string }) => t.id).sort()).toEqual(['bibliotheksausweis', 'geburtsurkunde', 'leipzig_pass', 'meldebescheinigung']);
    expect((await catalog(second.url)).revision).toBe(c.revision);
    const seeded = (await (await iss.admin('/api/audit')).json()).entries.filter((e: { actor: string }) => e.actor === 'seed:demo');
    expect(seeded).toHaveLength(8);
  });

  it('refuses an office the registry does not authorize with 409 (German and English), storing nothing', async () => {
    expect((await put(iss.url, '/api/catalog/credential-types/archivausweis', ARCHIVAUSWEIS)).status).toBe(201);
    const before = await catalog(iss.url);
    const audit = await auditLength();
    const res = await put(iss.url, '/api/catalog/offices/stadtarchiv', STADTARCHIV);
    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const problem = await res.json();
    expect(problem.type).toBe('urn:id-ideal:problem:not-authorized-by-registry');
    expect(problem.detail_i18n.de).toContain('nicht berechtigt');
    expect(problem.detail_i18n.en).toContain('not authorized');
    expect(problem.detail).toContain(VCT);
    expect(await catalog(iss.url)).toEqual(before);
    expect(await auditLength()).toBe(audit);
    expect((await metadata(iss.url, 'stadtarchiv')).status).toBe(404);
    expect((await fetch(`${iss.url}/offices/stadtarchiv/did.json`)).status).toBe(404);
  });

  it('refuses a configuration naming an unknown type with 400 naming the field, and a PUT without an administrator key', async () => {
    const res = await put(iss.url, '/api/catalog/offices/bibliothek', { ...STADTARCHIV, slug: 'bibliothek', credential_configurations: [{ id: 'x_sd_jwt', type: 'unbekannt', format: 'dc+sd-jwt' }] });
    expect(res.status).toBe(400);
    expect((await res.json()).field).toBe('credential_configurations.0.type');
    const mismatch = await put(iss.url, '/api/catalog/credential-types/anders', ARCHIVAUSWEIS);
    expect(mismatch.status).toBe(400);
    expect((await mismatch.json()).field).toBe('id');
    expect((await put(iss.url, '/api/catalog/credential-types/archivausweis', ARCHIVAUSWEIS, 'wrong-token-wrong-token-wrong')).status).toBe(401);
  });

  it('adds a new office with a new type through the admin APIs alone and issues it over OID4VCI', async () => {
    // Registry (its admin API): the department is accredited for the new type, the office registered and granted.
    const reg = iss.registry;
    const dept = `${reg.did}:authorities:dezernat-kultur`;
    const office = iss.officeDid('stadtarchiv');
    expect((await reg.admin('/api/credential-types', { body: { vct: VCT, name: ARCHIVAUSWEIS.name, issued_before_suspension: 'reject' } })).status).toBe(201);
    expect((await reg.admin('/api/grants', { body: { entity_id: dept, action: 'accredit', resource: VCT, constraints: { actions: ['issue'], max_depth: 0 } } })).status).toBe(201);
    expect((await reg.admin('/api/entities', { body: { id: office, kind: 'issuer', name: STADTARCHIV.name } })).status).toBe(201);
    expect((await reg.admin('/api/grants', { body: { authority_id: dept, entity_id: office, action: 'issue', resource: VCT } })).status).toBe(201);

    // Issuer: the type (created by the test above, or here when run alone), then the office, at once
    // (the registry was just changed: the issuer fetches a fresh snapshot before refusing).
    expect([200, 201]).toContain((await put(iss.url, '/api/catalog/credential-types/archivausweis', ARCHIVAUSWEIS)).status);
    const res = await put(iss.url, '/api/catalog/offices/stadtarchiv', STADTARCHIV);
    expect(res.status, await res.clone().text()).toBe(201);
    expect(await res.json()).toMatchObject({ changed: true, office: { slug: 'stadtarchiv' } });

    // OID4VCI 1.0 §12.2.4 metadata: German and English display and claim labels from the type.
    const meta = await (await metadata(iss.url, 'stadtarchiv')).json();
    const conf = meta.credential_configurations_supported.archivausweis_sd_jwt;
    expect(conf.vct).toBe(VCT);
    expect(conf.credential_metadata.display).toEqual([
      { name: 'Archivausweis', locale: 'de-DE', description: ARCHIVAUSWEIS.description.de, background_color: '#5a3e1b', text_color: '#ffffff' },
      { name: 'Archive reader card', locale: 'en-US', description: ARCHIVAUSWEIS.description.en, background_color: '#5a3e1b', text_color: '#ffffff' },
    ]);
    expect(conf.credential_metadata.claims.find((c: { path: string[] }) => c.path[0] === 'lesesaal').display).toEqual([
      { name: 'Lesesaal', locale: 'de-DE' },
      { name: 'Reading room', locale: 'en-US' },
    ]);
    expect(meta.display).toEqual([
      { name: 'Stadtarchiv Leipzig', locale: 'de-DE' },
      { name: 'Leipzig City Archives', locale: 'en-US' },
    ]);

    // The clerk's offer: `volljaehrig` left out and computed from the date of birth.
    const key = await newHolderKey();
    const offerRes = await iss.admin('/api/offices/stadtarchiv/offers', { credential_configuration_id: 'archivausweis_sd_jwt', claims: READER });
    expect(offerRes.status, await offerRes.clone().text()).toBe(201);
    const offer = await offerRes.json();
    const { client, signer } = testWallet([key]);
    const credentialOffer = await client.resolveCredentialOffer(offer.credential_offer);
    const issuerMetadata = await client.resolveIssuerMetadata(credentialOffer.credential_issuer);
    const { accessTokenResponse } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({ credentialOffer, issuerMetadata, txCode: offer.tx_code });
    const { c_nonce } = await client.requestNonce({ issuerMetadata });
    const { jwt } = await client.createCredentialRequestJwtProof({ issuerMetadata, credentialConfigurationId: 'archivausweis_sd_jwt', signer: signer(key), nonce: c_nonce });
    const r = await client.retrieveCredentials({ issuerMetadata, accessToken: accessTokenResponse.access_token, credentialConfigurationId: 'archivausweis_sd_jwt', proofs: { jwt: [jwt] } });
    const credential = (r.credentialResponse.credentials as { credential: string }[])[0]!.credential;

    // Signed by the new office's key from its did:web; the new vct with vct#integrity; disclosures per `sd`.
    const resolver = createDidResolver();
    expect(String(decodeProtectedHeader(credential.split('~')[0]!).kid)).toMatch(new RegExp(`^${office}#`));
    // The key from the office's did:web (the `kid`); the `iss` is its https identifier, certified with the DID in `x5c` (HAIP).
    const v = await verifySdJwtVc({ sdJwt: credential, now: Date.now(), requireKeyBinding: false, issuerKey: async (h) => resolveAssertionKey(resolver, String(h.kid), office) });
    expect(v.ok, JSON.stringify(v)).toBe(true);
    if (!v.ok) return;
    expect(v.payload.iss).toBe(`${iss.url}/offices/stadtarchiv`);
    expect(v.payload.vct).toBe(VCT);
    expect(v.payload['vct#integrity']).toBe(typeMetadataIntegrity(zCredentialTypeDef.parse(ARCHIVAUSWEIS)));
    // sd: never -> plaintext in the signed payload; the others only through disclosures.
    expect(v.payload.ausweisnummer).toBe('LA-0042');
    expect(v.payload.vorname).toBeUndefined();
    expect(v.disclosedPaths.map((p) => p.join('.')).sort()).toEqual(['familienname', 'geburtsdatum', 'lesesaal', 'volljaehrig', 'vorname']);
    expect(v.claims).toMatchObject({ ...READER, volljaehrig: true });
  });

  it('refuses a derived claim sent with the wrong value, naming it; one sent with the right value is accepted', async () => {
    const wrong = await iss.admin('/api/offices/stadtarchiv/offers', { credential_configuration_id: 'archivausweis_sd_jwt', claims: { ...READER, volljaehrig: false } });
    expect(wrong.status).toBe(400);
    const problem = await wrong.json();
    expect(problem.field).toBe('claims.volljaehrig');
    expect(problem.detail).toContain('volljaehrig');
    const child = await iss.admin('/api/offices/stadtarchiv/offers', { credential_configuration_id: 'archivausweis_sd_jwt', claims: { ...READER, geburtsdatum: '2015-06-01', volljaehrig: true } });
    expect(child.status).toBe(400);
    expect((await child.json()).field).toBe('claims.volljaehrig');
    expect((await iss.admin('/api/offices/stadtarchiv/offers', { credential_configuration_id: 'archivausweis_sd_jwt', claims: { ...READER, volljaehrig: true } })).status).toBe(201);
    // The enum and the pattern come from the type too.
    const badEnum = await iss.admin('/api/offices/stadtarchiv/offers', { credential_configuration_id: 'archivausweis_sd_jwt', claims: { ...READER, lesesaal: 'keller' } });
    expect((await badEnum.json()).field).toBe('claims.lesesaal');
  });

  it('answers an identical PUT with changed: false, no new revision and no audit entry', async () => {
    const before = await catalog(iss.url);
    const audit = await auditLength();
    for (const [path, body] of [['/api/catalog/credential-types/archivausweis', ARCHIVAUSWEIS], ['/api/catalog/offices/stadtarchiv', STADTARCHIV]] as const) {
      const res = await put(iss.url, path, body);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ changed: false, revision: before.revision });
    }
    expect(await auditLength()).toBe(audit);
    expect((await catalog(iss.url)).revision).toBe(before.revision);
  });

  it('lets a second process on the same database serve the new office, with the same key, within CATALOG_REFRESH', async () => {
    await expect.poll(async () => (await metadata(second.url, 'stadtarchiv')).status, { timeout: 5000, interval: 200 }).toBe(200);
    const didA = await (await fetch(`${iss.url}/offices/stadtarchiv/did.json`)).json();
    const didB = await (await fetch(`${second.url}/offices/stadtarchiv/did.json`)).json();
    expect(didB).toEqual(didA);
    // A change to the type reaches the second process's metadata too, without a restart.
    const renamed = { ...ARCHIVAUSWEIS, name: label('Archiv-Lesekarte', 'Archive reading card') };
    const res = await put(iss.url, '/api/catalog/credential-types/archivausweis', renamed);
    expect(res.status).toBe(200);
    expect((await res.json()).changed).toBe(true);
    const nameOn = async (base: string) => (await (await metadata(base, 'stadtarchiv')).json()).credential_configurations_supported.archivausweis_sd_jwt.credential_metadata.display[0].name;
    expect(await nameOn(iss.url)).toBe('Archiv-Lesekarte');
    await expect.poll(() => nameOn(second.url), { timeout: 5000, interval: 200 }).toBe('Archiv-Lesekarte');
    expect((await catalog(second.url)).revision).toBe((await catalog(iss.url)).revision);
  });

  it('applies a changed claim list to new offers, while an offer created before keeps its sealed claims', async () => {
    const old = await (await iss.admin('/api/offices/stadtarchiv/offers', { credential_configuration_id: 'archivausweis_sd_jwt', claims: READER })).json();
    const withNote = { ...ARCHIVAUSWEIS, claims: [...ARCHIVAUSWEIS.claims, { name: 'benutzungszweck', type: 'string', label: label('Benutzungszweck', 'Purpose of use') }] };
    expect((await put(iss.url, '/api/catalog/credential-types/archivausweis', withNote)).status).toBe(200);
    const missing = await iss.admin('/api/offices/stadtarchiv/offers', { credential_configuration_id: 'archivausweis_sd_jwt', claims: READER });
    expect(missing.status).toBe(400);
    expect((await missing.json()).field).toBe('claims.benutzungszweck');
    // The earlier offer is still collected with the claims it was created with.
    const key = await newHolderKey();
    const { client, signer } = testWallet([key]);
    const credentialOffer = await client.resolveCredentialOffer(old.credential_offer);
    const issuerMetadata = await client.resolveIssuerMetadata(credentialOffer.credential_issuer);
    const { accessTokenResponse } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({ credentialOffer, issuerMetadata, txCode: old.tx_code });
    const { c_nonce } = await client.requestNonce({ issuerMetadata });
    const { jwt } = await client.createCredentialRequestJwtProof({ issuerMetadata, credentialConfigurationId: 'archivausweis_sd_jwt', signer: signer(key), nonce: c_nonce });
    const r = await client.retrieveCredentials({ issuerMetadata, accessToken: accessTokenResponse.access_token, credentialConfigurationId: 'archivausweis_sd_jwt', proofs: { jwt: [jwt] } });
    const credential = (r.credentialResponse.credentials as { credential: string }[])[0]!.credential;
    const v = await verifySdJwtVc({ sdJwt: credential, now: Date.now(), requireKeyBinding: false, issuerKey: async (h) => resolveAssertionKey(createDidResolver(), String(h.kid), iss.officeDid('stadtarchiv')) });
    expect(v.ok).toBe(true);
    if (v.ok) {
      expect(v.claims.benutzungszweck).toBeUndefined();
      expect(v.claims.lesesaal).toBe('sondersammlungen');
    }
  });

  it('never overwrites later changes on restart: a process starting on a changed catalogue does not seed', async () => {
    const renamed = { ...LEIPZIG.offices.find((o) => o.slug === 'bibliothek')!, name: label('Stadtbibliothek Leipzig', 'Leipzig City Library') };
    const res = await put(iss.url, '/api/catalog/offices/bibliothek', renamed);
    expect(res.status).toBe(200);
    expect((await res.json()).changed).toBe(true);
    const before = await catalog(iss.url);
    const audit = await auditLength();
    const port = await freePort();
    const env = { ISSUER_PUBLIC_URL: iss.url, ISSUER_PORT: String(port), REGISTRY_PUBLIC_URL: iss.registry.url, DATA_DIR: iss.registry.dataDir, ISSUER_ADMIN_TOKEN: ISSUER_TOKEN, KEY_ENCRYPTION_SECRET: 'a'.repeat(64) };
    const third = await startIssuer(loadIssuerConfig(env), createLogger('issuer', 'silent'));
    try {
      expect(await catalog(`http://localhost:${port}`)).toEqual(before);
      expect((await (await metadata(`http://localhost:${port}`, 'bibliothek')).json()).display[0].name).toBe('Stadtbibliothek Leipzig');
    } finally {
      await third.close();
    }
    expect(await auditLength()).toBe(audit);
  });

  it('documents the catalogue API and the live claims schemas in /openapi.json', async () => {
    const doc = await (await fetch(`${iss.url}/openapi.json`)).json();
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.paths['/api/catalog/offices/{slug}'].put.responses['409']).toBeDefined();
    expect(doc.components.schemas.Claims_archivausweis_sd_jwt.required).toContain('benutzungszweck');
    expect(doc.components.schemas.Claims_archivausweis_sd_jwt.properties.lesesaal.enum).toEqual(['hauptlesesaal', 'sondersammlungen']);
    // Every local $ref resolves in the document.
    const refs: string[] = [];
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) k === '$ref' && typeof x === 'string' ? refs.push(x) : walk(x);
    };
    walk(doc);
    for (const ref of refs) {
      const target = ref.replace(/^#\//, '').split('/').reduce<any>((o, k) => o?.[k], doc);
      expect(target, ref).toBeDefined();
    }
  });
});
