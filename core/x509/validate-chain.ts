import { X509Certificate as NodeCertificate, type KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import { certificatesFromX5c, x509 } from './pem.ts';

/** Why a chain is refused; closed set, set where the failure is found (STYLE §8). */
export const CHAIN_FAILURE_CODES = [
  /** Not an array of base64 DER certificates, too long, or unparsable. */
  'certificate_malformed',
  /** The chain does not lead to a configured trust anchor (wrong CA, or a link whose signature does not verify). */
  'certificate_untrusted',
  /** A certificate in the path (or the anchor) is past its notAfter. */
  'certificate_expired',
  /** A certificate in the path (or the anchor) is before its notBefore. */
  'certificate_not_yet_valid',
  /** A signature or key algorithm outside the allow-list (SHA-1, MD5, RSA under 2048 bits, unknown curves). */
  'certificate_weak_algorithm',
  /** basicConstraints / keyUsage / pathLenConstraint violated, or an unknown critical extension. */
  'certificate_constraints',
  /** The end-entity key is not a P-256 key (the signatures here are ES256 only). */
  'certificate_key_unsupported',
] as const;
export type ChainFailureCode = (typeof CHAIN_FAILURE_CODES)[number];

export interface ValidatedChain {
  ok: true;
  /** The end-entity certificate's public key (P-256). */
  publicKey: KeyObject;
  publicJwk: JWK;
  /** subjectAltName uniformResourceIdentifier and dNSName entries of the end-entity certificate (RFC 5280 §4.2.1.6). */
  sanUris: string[];
  sanDns: string[];
  /** DER of the end-entity certificate (for OID4VP 1.0 §5.9.3 x509_hash). */
  leafDer: Buffer;
  /** Subject DN of the anchor the chain ends at (for logs; no personal data: CAs are organisations). */
  anchor: string;
}
export interface ChainFailure {
  ok: false;
  code: ChainFailureCode;
  /** For logs; never branch on it. */
  message: string;
}

const fail = (code: ChainFailureCode, message: string): ChainFailure => ({ ok: false, code, message });

const OID = {
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  extKeyUsage: '2.5.29.37',
  subjectKeyId: '2.5.29.14',
  authorityKeyId: '2.5.29.35',
} as const;
/** RFC 5280 §4.2: a certificate with a critical extension we do not process MUST be rejected. */
const UNDERSTOOD = new Set<string>(Object.values(OID));

/** Signature algorithms accepted (BSI TR-02102-1: SHA-2 family; no SHA-1, no MD5). */
const HASHES = new Set(['SHA-256', 'SHA-384', 'SHA-512']);
const SIGNATURE_ALGS = new Set(['ECDSA', 'RSASSA-PKCS1-v1_5', 'RSA-PSS']);
const CURVES = new Set(['prime256v1', 'secp384r1', 'secp521r1']);
const MIN_RSA_BITS = 2048;

interface Link {
  cert: x509.X509Certificate;
  node: NodeCertificate;
}

/**
 * Validates an `x5c` chain (RFC 7515 §4.1.6, leaf first) against trust anchors, the path validation
 * of RFC 5280 §6.1 as far as this network needs it: every link's issuer name and signature, every
 * certificate (and the anchor) valid at `now`, issuers are CAs (basicConstraints cA, keyUsage
 * keyCertSign, pathLenConstraint), the end entity is no CA and may sign (keyUsage digitalSignature),
 * no unknown critical extension, no weak algorithm, and an end-entity P-256 key. A copy of the anchor
 * at the end of the chain is tolerated (HAIP asks issuers to leave it out; not every one does).
 * Revocation (CRL, OCSP) is not checked: see docs/haip.md.
 */
export function validateChain(x5c: unknown, anchors: readonly x509.X509Certificate[], now: number): ValidatedChain | ChainFailure {
  const parsed = certificatesFromX5c(x5c);
  if (typeof parsed === 'string') return fail('certificate_malformed', parsed);
  let links: Link[];
  try {
    links = parsed.certs.map((cert, i) => ({ cert, node: new NodeCertificate(parsed.der[i]!) }));
  } catch {
    return fail('certificate_malformed', 'x5c entry is not an X.509 certificate');
  }
  const anchorLinks = anchors.map((cert) => ({ cert, node: new NodeCertificate(Buffer.from(cert.rawData)) }));
  // The anchor itself sent along: drop it, the configured copy is what counts.
  const last = links.at(-1)!;
  if (links.length > 1 && anchorLinks.some((a) => a.node.raw.equals(last.node.raw))) links = links.slice(0, -1);

  // RFC 5280 §6.1: the path ends at a trust anchor that issued its last certificate.
  const top = links.at(-1)!;
  const anchor = anchorLinks.find((a) => top.node.checkIssued(a.node) && safeVerify(top.node, a.node.publicKey));
  if (!anchor) return fail('certificate_untrusted', 'the chain does not lead to a trusted CA');

  const path = [...links, anchor];
  for (let i = 0; i < path.length; i++) {
    const { cert, node } = path[i]!;
    const what = i === 0 ? 'end-entity certificate' : i === path.length - 1 ? 'trust anchor' : `intermediate certificate ${i}`;
    // RFC 5280 §6.1.3 (a)(2): the validity period contains the current time.
    if (now > cert.notAfter.getTime()) return fail('certificate_expired', `${what} has expired`);
    if (now < cert.notBefore.getTime()) return fail('certificate_not_yet_valid', `${what} is not yet valid`);
    const weak = weakness(cert, node);
    if (weak) return fail('certificate_weak_algorithm', `${what}: ${weak}`);
    const unknown = cert.extensions.find((e) => e.critical && !UNDERSTOOD.has(e.type));
    if (unknown) return fail('certificate_constraints', `${what} has an unknown critical extension ${unknown.type}`);
    if (i > 0) {
      // RFC 5280 §6.1.4 (k), (l), (n): an issuer is a CA, may sign certificates, and respects its pathLenConstraint.
      const bc = cert.getExtension(x509.BasicConstraintsExtension);
      if (!bc?.ca) return fail('certificate_constraints', `${what} is not a CA (basicConstraints)`);
      const intermediatesBelow = i - 1;
      if (bc.pathLength !== undefined && intermediatesBelow > bc.pathLength) return fail('certificate_constraints', `${what}: pathLenConstraint ${bc.pathLength} exceeded`);
      const ku = cert.getExtension(x509.KeyUsagesExtension);
      if (ku && !(ku.usages & x509.KeyUsageFlags.keyCertSign)) return fail('certificate_constraints', `${what} may not sign certificates (keyUsage)`);
      // RFC 5280 §6.1.3 (a)(1), (a)(4): signed by the next certificate, whose subject is this one's issuer.
      const child = path[i - 1]!;
      if (!child.node.checkIssued(node) || !safeVerify(child.node, node.publicKey)) return fail('certificate_untrusted', `${what} did not issue the certificate below it`);
    }
  }

  const leaf = path[0]!;
  // RFC 5280 §4.2.1.9: an end entity is not a CA; §4.2.1.3: it must be allowed to sign (digitalSignature).
  if (leaf.cert.getExtension(x509.BasicConstraintsExtension)?.ca) return fail('certificate_constraints', 'the end-entity certificate is a CA certificate');
  const leafKu = leaf.cert.getExtension(x509.KeyUsagesExtension);
  if (!leafKu || !(leafKu.usages & x509.KeyUsageFlags.digitalSignature)) return fail('certificate_constraints', 'the end-entity certificate does not allow digitalSignature (keyUsage)');
  const key = leaf.node.publicKey;
  // ES256 only (core/crypto/jws.ts): the end-entity key must be P-256.
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') return fail('certificate_key_unsupported', 'the end-entity key is not a P-256 key');
  const san = leaf.cert.getExtension(x509.SubjectAlternativeNameExtension);
  const names = san?.names.items ?? [];
  return {
    ok: true,
    publicKey: key,
    publicJwk: key.export({ format: 'jwk' }) as JWK,
    sanUris: names.filter((n) => n.type === 'url').map((n) => n.value),
    sanDns: names.filter((n) => n.type === 'dns').map((n) => n.value.toLowerCase()),
    leafDer: leaf.node.raw,
    anchor: anchor.cert.subject,
  };
}

function safeVerify(cert: NodeCertificate, key: KeyObject): boolean {
  try {
    return cert.verify(key);
  } catch {
    return false;
  }
}

/** A reason when the certificate's signature algorithm or its key is weak or unknown; undefined when acceptable. */
function weakness(cert: x509.X509Certificate, node: NodeCertificate): string | undefined {
  let alg: { name: string; hash?: { name: string } };
  try {
    alg = cert.signatureAlgorithm as { name: string; hash?: { name: string } };
  } catch {
    return 'unknown signature algorithm';
  }
  if (!SIGNATURE_ALGS.has(alg.name)) return `signature algorithm ${alg.name} not allowed`;
  // RSA-PSS names its hash in the parameters; @peculiar/x509 reports it as `hash` as well.
  if (!alg.hash || !HASHES.has(alg.hash.name)) return `hash ${alg.hash?.name ?? 'unknown'} not allowed`;
  const k = node.publicKey;
  if (k.asymmetricKeyType === 'ec') return CURVES.has(String(k.asymmetricKeyDetails?.namedCurve)) ? undefined : 'curve not allowed';
  if (k.asymmetricKeyType === 'rsa' || k.asymmetricKeyType === 'rsa-pss') return (k.asymmetricKeyDetails?.modulusLength ?? 0) >= MIN_RSA_BITS ? undefined : `RSA key under ${MIN_RSA_BITS} bits`;
  return `key type ${k.asymmetricKeyType} not allowed`;
}
