import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Server } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { createBaseApp, finish } from '../../core/http/app.ts';
import { createLogger } from '../../core/log/logger.ts';
import { openDataSource } from '../../core/store/data-source.ts';
import type { CityCa } from '../../core/x509/city-ca.ts';
import { certificatesFromPem } from '../../core/x509/pem.ts';
import { validateChain } from '../../core/x509/validate-chain.ts';
import type { Office } from '../../issuer/deps.ts';
import { OfficeCertificates, officeCertificateRoutes } from '../../issuer/office-certificates.ts';
import { jwtVcIssuerMetadataRoutes } from '../../issuer/routes/jwt-vc-issuer-metadata.ts';
import { OfficeCertificateTable } from '../../issuer/store/certificate-table.ts';
import { Issuer0010Certificates1764100001010 } from '../../issuer/store/migrations/0010-certificates.ts';
import { demoCa, p256Signer } from './haip-fixtures.ts';

/**
 * HAIP issuer certificates on the issuer's side: one certificate per office key from the city CA,
 * naming the Credential Issuer Identifier and the did:web; a new one after a key rotation; the same
 * one for every worker; the chain public as PEM at GET /offices/{slug}/certificates.
 */
const DID = 'did:web:issuer.example:offices:buergerbuero';
const CI = 'https://issuer.example/offices/buergerbuero';

describe('office certificates (issuer, HAIP x5c)', () => {
  let ds: DataSource;
  let ca: CityCa;
  let server: Server;
  let base: string;
  const now = Date.now();
  const office = { slug: 'buergerbuero', name: { de: 'Bürgerbüro', en: 'Citizens’ office' }, issuerId: CI, identity: { did: DID, signer: p256Signer(`${DID}#k1`) } } as unknown as Office;
  let certs: OfficeCertificates;
  // Three keys after two rotations: k1 revoked an hour ago, k2 revoked from tomorrow on (still valid now), k3 current.
  const [k1, k2, k3] = [p256Signer(`${DID}#k1`), p256Signer(`${DID}#k2`), p256Signer(`${DID}#k3`)];
  const withKeys = {
    slug: 'buergerbuero',
    issuerId: CI,
    identity: {
      did: DID,
      signer: k3,
      keys: [
        { fragment: 'k1', publicJwk: k1.publicJwk, revoked: new Date(now - 3600_000).toISOString() },
        { fragment: 'k2', publicJwk: k2.publicJwk, revoked: new Date(now + 86_400_000).toISOString() },
        { fragment: 'k3', publicJwk: k3.publicJwk },
      ],
    },
  } as unknown as Office;

  beforeAll(async () => {
    ds = await openDataSource({ name: 'issuer', dataDir: mkdtempSync(join(tmpdir(), 'idideal-haip-certs-')), entities: [OfficeCertificateTable], migrations: [Issuer0010Certificates1764100001010] });
    ca = await demoCa(now);
    certs = new OfficeCertificates(ds, ca, () => now);
    const app = createBaseApp({ logger: createLogger('test', 'silent'), bodyLimit: '1kb' } as never);
    app.use(officeCertificateRoutes(() => new Map([[office.slug, office]]), certs));
    app.use(officeCertificateRoutes(() => new Map(), new OfficeCertificates(ds, undefined, () => now)));
    app.use(jwtVcIssuerMetadataRoutes(() => new Map([[withKeys.slug, withKeys]]), () => now));
    finish(app, createLogger('test', 'silent'));
    await new Promise<void>((r) => (server = app.listen(0, '127.0.0.1', () => r())));
    const addr = server.address();
    base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  });
  afterAll(async () => {
    await new Promise((r) => server?.close(r));
    await ds?.destroy();
  });

  it('certifies the office key: SAN URIs are the Credential Issuer Identifier and the did:web; the chain validates to the city CA', async () => {
    const x5c = (await certs.x5cFor(office))!;
    const chain = validateChain(x5c, [ca.root], now);
    expect(chain).toMatchObject({ ok: true, sanUris: [CI, DID] });
    if (chain.ok) expect(chain.publicJwk).toMatchObject({ x: office.identity.signer.publicJwk.x, y: office.identity.signer.publicJwk.y });
  });

  it('keeps one certificate per key across workers, and issues a new one after a key rotation', async () => {
    const first = await certs.x5cFor(office);
    const otherWorker = new OfficeCertificates(ds, ca, () => now);
    expect(await otherWorker.x5cFor(office)).toEqual(first);
    const rotated = { ...office, identity: { did: DID, signer: p256Signer(`${DID}#k2`) } } as unknown as Office;
    const second = (await certs.x5cFor(rotated))!;
    expect(second[0]).not.toBe(first![0]);
    const chain = validateChain(second, [ca.root], now);
    expect(chain.ok && chain.publicJwk.x).toBe(rotated.identity.signer.publicJwk.x);
    expect(await ds.manager.count(OfficeCertificateTable)).toBe(2);
  });

  it('serves the current chain as PEM (leaf, then the CA) at GET /offices/{slug}/certificates; 404 problem JSON otherwise', async () => {
    const res = await fetch(`${base}/offices/buergerbuero/certificates`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/pem-certificate-chain/);
    const pem = certificatesFromPem(await res.text());
    expect(pem).toHaveLength(2);
    expect(Buffer.from(pem[1]!.rawData).equals(Buffer.from(ca.root.rawData))).toBe(true);
    const unknown = await fetch(`${base}/offices/nirgendwo/certificates`);
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  it('renews a certificate that ends within 30 days', async () => {
    const later = new OfficeCertificates(ds, ca, () => now + 340 * 86_400_000);
    const before = await certs.x5cFor(office);
    const renewed = await later.x5cFor(office);
    expect(renewed![0]).not.toBe(before![0]);
    expect(validateChain(renewed, [ca.root], now + 340 * 86_400_000).ok).toBe(true);
  });

  it('replaces a certificate at once when it no longer names the office’s Credential Issuer Identifier (ISSUER_PUBLIC_URL changed)', async () => {
    const before = (await certs.x5cFor(office))!;
    const moved = { ...office, issuerId: 'https://ausweis.leipzig.example/offices/buergerbuero' } as unknown as Office;
    const after = (await new OfficeCertificates(ds, ca, () => now).x5cFor(moved))!;
    expect(after[0]).not.toBe(before[0]);
    expect(validateChain(after, [ca.root], now)).toMatchObject({ ok: true, sanUris: ['https://ausweis.leipzig.example/offices/buergerbuero', DID] });
    // And back: the same process notices the change too (its cache is keyed by the names).
    const back = (await certs.x5cFor(office))!;
    expect(validateChain(back, [ca.root], now)).toMatchObject({ ok: true, sanUris: [CI, DID] });
  });

  it('serves JWT VC Issuer Metadata (SD-JWT VC §5) at /.well-known/jwt-vc-issuer/offices/{slug}: issuer = iss, the keys still valid, kid = DID URL', async () => {
    const res = await fetch(`${base}/.well-known/jwt-vc-issuer/offices/buergerbuero`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('cache-control')).toMatch(/max-age=\d+/);
    const body = (await res.json()) as { issuer: string; jwks: { keys: Record<string, string>[] }; jwks_uri?: string };
    expect(body.issuer).toBe(CI);
    expect(body.jwks_uri).toBeUndefined();
    expect(body.jwks.keys.map((k) => k.kid)).toEqual([`${DID}#k2`, `${DID}#k3`]);
    expect(body.jwks.keys[1]).toEqual({ kty: 'EC', crv: 'P-256', x: k3.publicJwk.x, y: k3.publicJwk.y, kid: `${DID}#k3`, use: 'sig', alg: 'ES256' });
    const unknown = await fetch(`${base}/.well-known/jwt-vc-issuer/offices/nirgendwo`);
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });
});
