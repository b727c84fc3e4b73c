import { X509Certificate as NodeCertificate, type KeyObject } from 'node:crypto';
import type { Resolver } from 'did-resolver';
import type { JWK } from 'jose';
import { thumbprint } from '../crypto/jwk.ts';
import { resolveAssertionKey } from '../did/resolver.ts';
import { certificatesFromX5c, x509 } from './pem.ts';
import { type ChainFailureCode, validateChain } from './validate-chain.ts';

/**
 * `certificate_san_mismatch`: the end-entity certificate does not name the credential's `iss` as a
 * subjectAltName URI, or does not name exactly one DID (the entity the trust registry knows).
 */
export type CertifiedKeyFailureCode = ChainFailureCode | 'certificate_san_mismatch';

export type IssuerKeyPlan =
  /** `iss` is a DID and no certificate decides: the header `kid` names the key in that DID's document (as before HAIP). */
  | { ok: true; via: 'did'; did: string }
  /**
   * The key is the end-entity certificate's. `did` is the one DID the certificate names: the entity
   * the registry must authorise, whose DID document must list the key (certifiedKeyInDid).
   * `chainValidated`: the chain led to a trusted CA; false only without any trusted CA (see issuerKeyPlan).
   */
  | { ok: true; via: 'certificate'; did: string; publicKey: KeyObject; publicJwk: JWK; chainValidated: boolean }
  | { ok: false; code: CertifiedKeyFailureCode | 'issuer_unsupported'; message: string };

/**
 * Which key discovery (SD-JWT VC §2.5 "Issuer Verification Key Discovery and Validation") applies to
 * an SD-JWT VC, and which DID the trust registry is asked about. The same rules for the verifier and
 * the wallet; nothing is fetched here.
 *
 * - `x5c` and trusted CAs: "Inline X.509 Certificates": the chain must validate to a trusted CA
 *   (core/x509/validate-chain.ts), and the issuer "is the subject of the end-entity certificate",
 *   which this network names by subjectAltName URIs: one of them must equal `iss` (the office's https
 *   Credential Issuer Identifier, or for credentials issued before issue 17 its did:web), and exactly
 *   one of them must be a DID (the office's did:web). A failing chain is refused, never rescued by the `kid`.
 * - `x5c`, no trusted CA, `iss` a DID: the certificate is ignored and the `kid` decides (as before).
 * - `x5c`, no trusted CA, `iss` not a DID: the certificate is read but not trusted: it must still name
 *   `iss` and exactly one DID, and that DID's document must list the certified key (the caller checks);
 *   so the assurance is that of the did:web and the registry decides on that DID, never on `iss`.
 * - no `x5c`, `iss` a DID: the `kid` decides (did:web).
 * - no `x5c`, `iss` an https URI: refused (`issuer_unsupported`). JWT VC Issuer Metadata (SD-JWT VC §5)
 *   would give the key of an https identifier but no entity the registry knows: the registry authorises
 *   DIDs, and nothing signed links an https identifier to one. SD-JWT VC §ecosystem-verification-rules:
 *   the presenter cannot choose a weaker way for a given `iss`.
 */
export function issuerKeyPlan(header: { x5c?: unknown }, iss: string, anchors: readonly x509.X509Certificate[], now: number): IssuerKeyPlan {
  const isDid = iss.startsWith('did:');
  if (!isDid && !acceptableIssuerUri(iss)) return { ok: false, code: 'issuer_unsupported', message: 'iss is neither a DID nor an https URI' };
  if (header.x5c === undefined || (anchors.length === 0 && isDid)) {
    if (isDid) return { ok: true, via: 'did', did: iss };
    return { ok: false, code: 'issuer_unsupported', message: 'an https iss needs an x5c certificate naming the issuer’s DID' };
  }
  let leaf: { publicKey: KeyObject; publicJwk: JWK; sanUris: string[] };
  if (anchors.length > 0) {
    const chain = validateChain(header.x5c, anchors, now);
    if (!chain.ok) return chain;
    leaf = chain;
  } else {
    const read = readLeaf(header.x5c);
    if (!read.ok) return read;
    leaf = read;
  }
  if (!leaf.sanUris.includes(iss)) return { ok: false, code: 'certificate_san_mismatch', message: 'no subjectAltName URI of the end-entity certificate is the credential’s iss' };
  const dids = leaf.sanUris.filter((u) => u.startsWith('did:'));
  if (dids.length !== 1) return { ok: false, code: 'certificate_san_mismatch', message: 'the end-entity certificate does not name exactly one DID' };
  return { ok: true, via: 'certificate', did: dids[0]!, publicKey: leaf.publicKey, publicJwk: leaf.publicJwk, chainValidated: anchors.length > 0 };
}

/**
 * No CRL or OCSP here (docs/haip.md): the certified key must also be a non-revoked assertion key of
 * the certificate's DID, named by the header `kid` when it is a DID URL of that DID, else
 * `<did>#<JWK thumbprint>` (the fragment our offices use). Revoking a compromised office key in its
 * DID document so stops its x5c credentials as well as its kid ones. Throws the resolver's error
 * (revoked, unknown) or returns false when the document lists another key under that id.
 */
export async function certifiedKeyInDid(resolver: Resolver, did: string, headerKid: unknown, publicJwk: JWK, now: number): Promise<boolean> {
  const kid = typeof headerKid === 'string' && headerKid.startsWith(`${did}#`) ? headerKid : `${did}#${await thumbprint(publicJwk)}`;
  const didKey = await resolveAssertionKey(resolver, kid, did, now);
  return didKey.x === publicJwk.x && didKey.y === publicJwk.y && didKey.crv === publicJwk.crv;
}

/** An issuer URI we accept beside a certificate: https (SD-JWT VC §5, HAIP), plain http only for loopback (docs/contract.md); no query, no fragment. */
function acceptableIssuerUri(iss: string): boolean {
  let url: URL;
  try {
    url = new URL(iss);
  } catch {
    return false;
  }
  if (url.search || url.hash || url.username || url.password || iss.includes('?') || iss.includes('#')) return false;
  return url.protocol === 'https:' || (url.protocol === 'http:' && (url.hostname === 'localhost' || url.hostname === '127.0.0.1'));
}

/** The end-entity certificate of an `x5c` read without a trust anchor: well-formed, P-256, its SAN URIs. */
function readLeaf(x5c: unknown): { ok: true; publicKey: KeyObject; publicJwk: JWK; sanUris: string[] } | { ok: false; code: ChainFailureCode; message: string } {
  const parsed = certificatesFromX5c(x5c);
  if (typeof parsed === 'string') return { ok: false, code: 'certificate_malformed', message: parsed };
  let key: KeyObject;
  try {
    key = new NodeCertificate(parsed.der[0]!).publicKey;
  } catch {
    return { ok: false, code: 'certificate_malformed', message: 'x5c entry is not an X.509 certificate' };
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') return { ok: false, code: 'certificate_key_unsupported', message: 'the end-entity key is not a P-256 key' };
  const names = parsed.certs[0]!.getExtension(x509.SubjectAlternativeNameExtension)?.names.items ?? [];
  return { ok: true, publicKey: key, publicJwk: key.export({ format: 'jwk' }) as JWK, sanUris: names.filter((n) => n.type === 'url').map((n) => n.value) };
}
