import { ConfigError } from '../core/config/env.ts';
import type { Clock } from '../core/util/time.ts';
import type { CityCa } from '../core/x509/city-ca.ts';
import { issueRelyingPartyCertificate } from '../core/x509/issue-certificate.ts';
import { x509HashClientId } from '../core/x509/x509-hash.ts';
import type { RelyingParty } from './deps.ts';

/**
 * VERIFIER_X509_HASH_CLIENTS: the relying parties (slugs, comma-separated, or `*` for all) that
 * identify themselves with `x509_hash:` (OID4VP 1.0 §5.9.3, HAIP) instead of the default
 * `decentralized_identifier:`. Needs a city CA (CITY_CA_CERT_FILE/CITY_CA_KEY_FILE, or the demo CA).
 */
export function x509HashClientsFromEnv(env: NodeJS.ProcessEnv): { all: boolean; slugs: Set<string> } {
  const raw = (env.VERIFIER_X509_HASH_CLIENTS ?? '').trim();
  if (raw === '*') return { all: true, slugs: new Set() };
  const slugs = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const s of slugs) if (!/^[a-z0-9-]{1,64}$/.test(s)) throw new ConfigError('VERIFIER_X509_HASH_CLIENTS must be "*" or relying-party slugs separated by commas');
  return { all: false, slugs: new Set(slugs) };
}

const VALIDITY_DAYS = 365;
const RENEW_BEFORE_MS = 30 * 86_400_000;

/**
 * Certifies a relying party's request-signing key (the key of its did:web) by the city CA and
 * switches its client identifier to `x509_hash:<base64url SHA-256 of the DER leaf>` (§5.9.3). The
 * certificate names the verifier's host (dNSName, where the response_uri is), the client URL and the
 * did:web (URIs): the wallet finds the registry entry by that DID.
 *
 * One certificate per key, kept in memory while it has more than 30 days left: the client_id of a
 * relying party must not change between a request and its answer (the KB-JWT `aud` is that client_id),
 * also when the catalogue rebuilds the relying party.
 */
export class RelyingPartyCertificates {
  private readonly byKey = new Map<string, { x5c: string[]; notAfter: number }>();

  constructor(
    private readonly ca: CityCa,
    private readonly publicUrl: string,
    private readonly clock: Clock,
    private readonly clients: { all: boolean; slugs: Set<string> },
  ) {}

  /** Sets `x5c` and the `x509_hash:` client_id on a relying party configured for it; leaves others as they are. */
  async apply(rp: RelyingParty): Promise<void> {
    if (!this.clients.all && !this.clients.slugs.has(rp.slug)) return;
    const now = this.clock();
    let cert = this.byKey.get(rp.identity.signer.kid);
    if (!cert || cert.notAfter - now <= RENEW_BEFORE_MS) {
      const leaf = await issueRelyingPartyCertificate(this.ca, { publicJwk: rp.identity.signer.publicJwk, name: rp.name.de, clientUrl: `${this.publicUrl}/verifiers/${rp.slug}`, did: rp.identity.did, now, days: VALIDITY_DAYS });
      cert = { x5c: leaf.x5c, notAfter: leaf.certificate.notAfter.getTime() };
      this.byKey.set(rp.identity.signer.kid, cert);
    }
    rp.x5c = cert.x5c;
    rp.clientId = x509HashClientId(cert.x5c[0]!);
  }
}

/** One relying party with a certificate from `ca` (tests and single use): same as RelyingPartyCertificates for that slug. */
export function useX509Hash(ca: CityCa, rp: RelyingParty, publicUrl: string, now: number): Promise<void> {
  return new RelyingPartyCertificates(ca, publicUrl, () => now, { all: true, slugs: new Set() }).apply(rp);
}
