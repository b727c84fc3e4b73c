import { webcrypto } from 'node:crypto';
import type { JWK } from 'jose';
import type { CityCa } from './city-ca.ts';
import { randomSerial } from './city-ca.ts';
import { x509, x5cOf } from './pem.ts';

export interface LeafRequest {
  /** The P-256 public key to certify (the office's or the relying party's signing key). */
  publicJwk: JWK;
  /** Organisation name for the subject CN (never a person). */
  name: string;
  /** subjectAltName uniformResourceIdentifier entries (RFC 5280 §4.2.1.6). */
  uris: string[];
  /** subjectAltName dNSName entries. */
  dns?: string[];
  now: number;
  /** Validity in days (default 365), never beyond the CA's own notAfter. */
  days?: number;
}

export interface IssuedLeaf {
  certificate: x509.X509Certificate;
  /** RFC 7515 §4.1.6 `x5c`: leaf, then the CA and any intermediates, without the root (HAIP). */
  x5c: string[];
  /** The same chain as PEM, leaf first, root excluded. */
  chain: x509.X509Certificate[];
}

/**
 * Issues an end-entity certificate for an ES256 signing key: basicConstraints cA=false, keyUsage
 * digitalSignature (both critical), the SAN names given, subject and authority key identifiers.
 */
export async function issueLeafCertificate(ca: CityCa, req: LeafRequest): Promise<IssuedLeaf> {
  const { kty, crv, x, y } = req.publicJwk;
  if (kty !== 'EC' || crv !== 'P-256' || !x || !y) throw new TypeError('only P-256 keys are certified');
  const publicKey = await webcrypto.subtle.importKey('jwk', { kty, crv, x, y }, { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify']);
  const notAfter = Math.min(req.now + (req.days ?? 365) * 86_400_000, ca.certificate.notAfter.getTime());
  const names = [...req.uris.map((value) => ({ type: 'url' as const, value })), ...(req.dns ?? []).map((value) => ({ type: 'dns' as const, value }))];
  if (names.length === 0) throw new TypeError('a leaf certificate names at least one subjectAltName');
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: [{ CN: [req.name] }],
    issuer: ca.certificate.subjectName,
    notBefore: new Date(req.now - 60_000),
    notAfter: new Date(notAfter),
    publicKey: publicKey as webcrypto.CryptoKey,
    signingKey: ca.signingKey,
    signingAlgorithm: ca.signingAlgorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.SubjectAlternativeNameExtension(names, false),
      await x509.SubjectKeyIdentifierExtension.create(publicKey as webcrypto.CryptoKey),
      await x509.AuthorityKeyIdentifierExtension.create(ca.certificate.publicKey),
    ],
  });
  const chain = [certificate, ...(ca.certificate.subject === ca.certificate.issuer ? [] : [ca.certificate]), ...ca.chainAbove];
  return { certificate, x5c: x5cOf(chain), chain };
}

/**
 * An office's certificate: SAN URIs its Credential Issuer Identifier (OID4VCI 1.0 §12.2.1,
 * `<ISSUER_PUBLIC_URL>/offices/<slug>`) and its did:web, the `iss` of its credentials and the
 * entity the registry authorises (SD-JWT VC §2.5: the issuer is the subject of the end-entity certificate).
 */
export function issueOfficeCertificate(ca: CityCa, o: { publicJwk: JWK; name: string; credentialIssuer: string; did: string; now: number; days?: number }): Promise<IssuedLeaf> {
  return issueLeafCertificate(ca, { publicJwk: o.publicJwk, name: o.name, uris: [o.credentialIssuer, o.did], now: o.now, ...(o.days ? { days: o.days } : {}) });
}

/**
 * A relying party's request-signing certificate: SAN dNSName the verifier's host (where its
 * response_uri lives), SAN URIs its client URL and its did:web (the entity the registry knows).
 */
export function issueRelyingPartyCertificate(ca: CityCa, o: { publicJwk: JWK; name: string; clientUrl: string; did: string; now: number; days?: number }): Promise<IssuedLeaf> {
  return issueLeafCertificate(ca, { publicJwk: o.publicJwk, name: o.name, uris: [o.clientUrl, o.did], dns: [new URL(o.clientUrl).hostname], now: o.now, ...(o.days ? { days: o.days } : {}) });
}
