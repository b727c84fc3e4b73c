import { signJws, type Signer } from '../../crypto/jws.ts';
import { VC_CTY, VC_JWT_TYP } from './envelope.ts';

/**
 * Secures a VCDM 2.0 credential with JOSE (VC-JOSE-COSE §3.1.1): a JWS in compact serialization
 * whose unencoded payload is the credential itself.
 *
 * - Protected header: `alg` ES256 (core/crypto/jws.ts allow-list), `typ: vc+jwt` ("SHOULD be vc+jwt"),
 *   `cty: vc` ("When present … SHOULD be vc"), and `kid` the issuer's DID URL — VC-JOSE-COSE key
 *   discovery: "kid MUST be present when the key of the issuer … is expressed as a DID URL".
 * - No JWT claims are added: `iss` is optional (if present it MUST match `issuer`), `iat`/`exp` would
 *   describe the signature rather than the credential, and `vc`/`vp` MUST NOT be present
 *   (§3.1.3). The credential's own `validFrom`/`validUntil` carry its validity (VCDM 2.0 §4.9).
 */
export async function signCredentialJose(signer: Signer, credential: Record<string, unknown>): Promise<string> {
  if ('vc' in credential || 'vp' in credential) throw new Error('VC-JOSE-COSE §3.1.3: the JWT claim names vc and vp MUST NOT be present');
  if ('proof' in credential) throw new Error('an enveloped credential carries no embedded proof');
  return signJws(signer, new TextEncoder().encode(JSON.stringify(credential)), { typ: VC_JWT_TYP, header: { cty: VC_CTY } });
}
