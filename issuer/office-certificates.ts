import { Router } from 'express';
import type { DataSource } from 'typeorm';
import { publicCors } from '../core/http/app.ts';
import { notFound } from '../core/http/errors.ts';
import { withDb } from '../core/store/data-source.ts';
import type { Clock } from '../core/util/time.ts';
import type { CityCa } from '../core/x509/city-ca.ts';
import { issueOfficeCertificate } from '../core/x509/issue-certificate.ts';
import { pemOf, x509 } from '../core/x509/pem.ts';
import type { Office } from './deps.ts';
import { OfficeCertificateTable, type OfficeCertificateRow } from './store/certificate-table.ts';

/** A certificate is renewed when less than this is left of it. */
const RENEW_BEFORE_MS = 30 * 86_400_000;
/** Validity of an office certificate (days). */
const VALIDITY_DAYS = 365;

/**
 * HAIP issuer certificates: each office signing key certified by the city CA (core/x509), so the
 * office's SD-JWT VCs carry `x5c` and the https Credential Issuer Identifier as `iss` (SD-JWT VC §2.5;
 * the certificate names it and the office's did:web as SAN URIs). One certificate per key:
 * issued on first use of a key (first start, and after a rotation the new key's first credential),
 * renewed 30 days before it ends, kept in issuer_office_certificates so every worker signs with the
 * same chain. Without a city CA (production without CITY_CA_CERT_FILE/CITY_CA_KEY_FILE) there are
 * none and credentials carry the did:web `iss` and `kid` only.
 */
export class OfficeCertificates {
  private readonly cache = new Map<string, { x5c: string[]; notAfter: number; names: string }>();

  constructor(
    private readonly ds: DataSource,
    readonly ca: CityCa | undefined,
    private readonly clock: Clock,
  ) {}

  /** The `x5c` for the office's current signing key, or undefined without a city CA. */
  async x5cFor(office: Office): Promise<string[] | undefined> {
    if (!this.ca) return undefined;
    const fragment = fragmentOf(office);
    const now = this.clock();
    const names = `${office.issuerId} ${office.identity.did}`;
    const cached = this.cache.get(fragment);
    if (cached && cached.names === names && cached.notAfter - now > RENEW_BEFORE_MS) return cached.x5c;
    let row = await withDb(this.ds, (m) => m.findOne(OfficeCertificateTable, { where: { fragment } }));
    // Renewed 30 days before it ends, and at once when it no longer names the office's current
    // Credential Issuer Identifier and did:web (ISSUER_PUBLIC_URL changed): `iss` must be a SAN URI of the leaf.
    if (!row || Date.parse(row.not_after) - now <= RENEW_BEFORE_MS || !namesOffice(row.x5c, office)) row = await this.issue(office, fragment, row);
    const entry = { x5c: JSON.parse(row.x5c) as string[], notAfter: Date.parse(row.not_after), names };
    this.cache.set(fragment, entry);
    return entry.x5c;
  }

  /** The chain of the office's current key as PEM, leaf first, then the CA chain up to and including the root. */
  async chainPem(office: Office): Promise<string | undefined> {
    const x5c = await this.x5cFor(office);
    if (!x5c || !this.ca) return undefined;
    const certs = x5c.map((c) => new x509.X509Certificate(Buffer.from(c, 'base64')));
    const root = this.ca.root;
    return pemOf(certs.some((c) => Buffer.from(c.rawData).equals(Buffer.from(root.rawData))) ? certs : [...certs, root]);
  }

  private async issue(office: Office, fragment: string, previous: OfficeCertificateRow | null): Promise<OfficeCertificateRow> {
    const now = this.clock();
    const leaf = await issueOfficeCertificate(this.ca!, { publicJwk: office.identity.signer.publicJwk, name: office.name.de, credentialIssuer: office.issuerId, did: office.identity.did, now, days: VALIDITY_DAYS });
    const row: OfficeCertificateRow = { fragment, office: office.slug, x5c: JSON.stringify(leaf.x5c), not_after: leaf.certificate.notAfter.toISOString(), created_at: new Date(now).toISOString() };
    return withDb(this.ds, async (m) => {
      if (previous) {
        // Renewal: replace only the row this process read, so two workers renewing together keep one certificate.
        await m.createQueryBuilder().update(OfficeCertificateTable).set({ x5c: row.x5c, not_after: row.not_after, created_at: row.created_at }).where('fragment = :fragment AND not_after = :old', { fragment, old: previous.not_after }).execute();
      } else {
        // First certificate of this key: the first writer wins (several ISSUER_WORKERS may start together).
        await m.createQueryBuilder().insert().into(OfficeCertificateTable).values(row).orIgnore().execute();
      }
      return (await m.findOne(OfficeCertificateTable, { where: { fragment } })) ?? row;
    });
  }
}

/**
 * Whether a stored leaf names exactly the office's Credential Issuer Identifier and did:web as SAN URIs
 * (the SD-JWT VC `iss` and the entity the registry authorises; core/x509/issuer-key.ts).
 */
function namesOffice(x5cJson: string, office: Office): boolean {
  try {
    const leaf = new x509.X509Certificate(Buffer.from((JSON.parse(x5cJson) as string[])[0]!, 'base64'));
    const uris = (leaf.getExtension(x509.SubjectAlternativeNameExtension)?.names.items ?? []).filter((n) => n.type === 'url').map((n) => n.value);
    return uris.length === 2 && uris.includes(office.issuerId) && uris.includes(office.identity.did);
  } catch {
    return false;
  }
}

/** The office's current key fragment: the part after `#` of its signer's kid (the JWK thumbprint). */
function fragmentOf(office: Office): string {
  return office.identity.signer.kid.slice(office.identity.signer.kid.indexOf('#') + 1);
}

/**
 * `GET /offices/{slug}/certificates`: the office's current certificate chain as PEM (RFC 8555 §9.1
 * `application/pem-certificate-chain`), public like the DID document, for anyone checking an `x5c`.
 */
export function officeCertificateRoutes(offices: () => Map<string, Office>, certs: OfficeCertificates): Router {
  const r = Router();
  r.get('/offices/:slug/certificates', publicCors, async (req, res) => {
    const office = offices().get(String(req.params.slug));
    if (!office) throw notFound('unknown-office', 'No office at this path.');
    const pem = await certs.chainPem(office);
    if (!pem) throw notFound('no-certificate', 'This issuer runs without a city CA; its keys are published in its DID document only.');
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.type('application/pem-certificate-chain').send(pem);
  });
  return r;
}
