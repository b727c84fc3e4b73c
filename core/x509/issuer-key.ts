import type { KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import type { x509 } from './pem.ts';
import { type ChainFailureCode, validateChain } from './validate-chain.ts';

export type CertifiedKeyFailureCode = ChainFailureCode | 'certificate_san_mismatch';

/**
 * SD-JWT VC §2.5 "Inline X.509 Certificates": the key of an Issuer-signed JWT whose protected header
 * carries `x5c` is the end-entity certificate's, once the chain validates to a trusted CA
 * (core/x509/validate-chain.ts); "the Issuer … is the subject of the end-entity certificate", which
 * this network names by a subjectAltName URI equal to the credential's `iss` (the office's did:web,
 * the entity the registry authorises; core/x509/issue-certificate.ts issueOfficeCertificate).
 */
export function certifiedIssuerKey(
  x5c: unknown,
  iss: string,
  anchors: readonly x509.X509Certificate[],
  now: number,
): { ok: true; publicKey: KeyObject; publicJwk: JWK } | { ok: false; code: CertifiedKeyFailureCode; message: string } {
  const chain = validateChain(x5c, anchors, now);
  if (!chain.ok) return chain;
  if (!chain.sanUris.includes(iss)) return { ok: false, code: 'certificate_san_mismatch', message: 'no subjectAltName URI of the end-entity certificate is the credential’s iss' };
  return { ok: true, publicKey: chain.publicKey, publicJwk: chain.publicJwk };
}
