import type { JWK } from 'jose';
import { sameJwkKey } from '../../core/crypto/jwk.ts';

/**
 * The JWTs this process has just signed with an office key (access tokens, RFC 9068), each with the
 * public key that signed it, so that verifying one of them again is a lookup instead of an ECDSA
 * verification (issue 16: in the issuer's bench profile the access token's ES256 verification was
 * 3.0 % of the busy time, timed in place 132 µs a flow (median); the token comes back to the process
 * that signed it within the flow).
 *
 * A hit says exactly what a valid signature says: these bytes, header, payload and signature, were
 * signed with the private key of this public key, because this process did it. It is a hit only for
 * the very same compact string and the very same key the caller (the library, from `jwks_uri`)
 * asks to verify with; everything else (typ, iss, aud, exp, the key being published and not revoked)
 * is checked by the library as before, and a token another worker or instance signed is verified
 * in full. Bounded: at most `max` entries, the oldest dropped first. Access tokens carry no personal
 * data (the subject is an offer id).
 */
export class SignedHere {
  private readonly keyOf = new Map<string, JWK>();

  constructor(private readonly max = 4096) {}

  /** A compact JWS this process signed with the key whose public half is `publicJwk`. */
  remember(compact: string, publicJwk: JWK): void {
    if (this.keyOf.has(compact)) return;
    while (this.keyOf.size >= this.max) this.keyOf.delete(this.keyOf.keys().next().value!);
    this.keyOf.set(compact, publicJwk);
  }

  /** True if this process signed exactly `compact` with the private key of `publicJwk`. */
  signed(compact: string, publicJwk: JWK): boolean {
    const k = this.keyOf.get(compact);
    return k !== undefined && sameJwkKey(k, publicJwk);
  }
}
