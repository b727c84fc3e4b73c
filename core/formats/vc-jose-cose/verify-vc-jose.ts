import type { JWK } from 'jose';
import { JoseVerifyError, peekHeader, verifyJws } from '../../crypto/jws.ts';
import { VC_CTY, VC_JWT_TYP, VP_CTY, VP_JWT_TYP } from './envelope.ts';

/**
 * Verifying a credential or presentation secured with JOSE (VC-JOSE-COSE §5.1 "Verifying a
 * Credential or Presentation Secured with JOSE": validate the JWS, then the decoded payload is the
 * document). The key is found by `kid` (a DID URL) through a caller-supplied resolver, so trust
 * decisions (is this issuer registered at all?) can be taken before any DID is resolved.
 *
 * Returns the verified document; the caller checks that it is a conforming VCDM 2.0 document and
 * evaluates validity, status and trust.
 */
export type VcJoseFailure = 'malformed' | 'bad_alg' | 'bad_typ' | 'bad_signature' | 'key_unresolved' | 'issuer_mismatch' | 'expired' | 'not_yet_valid' | 'forbidden_claim';

export class VcJoseError extends Error {
  override name = 'VcJoseError';
  constructor(
    readonly reason: VcJoseFailure,
    message: string,
  ) {
    super(message);
  }
}

export interface VerifyJoseOptions {
  kind: 'credential' | 'presentation';
  /** Resolves the public key of `kid`, which must belong to `controller`; throws when it cannot. */
  resolveKey: (kid: string, controller: string) => Promise<JWK>;
  now: number;
  skewSeconds?: number;
}

export interface VerifiedJose {
  header: Record<string, unknown>;
  document: Record<string, unknown>;
  /** The DID whose key secured the document (the issuer, or the holder of a presentation). */
  controller: string;
  kid: string;
}

const idOf = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'object' && v !== null && typeof (v as { id?: unknown }).id === 'string' ? (v as { id: string }).id : undefined);

export async function verifyJoseSecured(jws: string, opts: VerifyJoseOptions): Promise<VerifiedJose> {
  const typ = opts.kind === 'credential' ? VC_JWT_TYP : VP_JWT_TYP;
  let header;
  try {
    header = peekHeader(jws); // alg from the allow-list only, never `none` (RFC 8725 §3.1)
  } catch (e) {
    throw new VcJoseError(e instanceof JoseVerifyError ? (e.reason === 'bad_alg' ? 'bad_alg' : 'malformed') : 'malformed', (e as Error).message);
  }
  // VC-JOSE-COSE §3.1.1/§3.1.2: typ SHOULD be vc+jwt / vp+jwt. We require it (explicit typing,
  // RFC 8725 §3.11), so that no other kind of JWT can be passed off as a credential.
  if (header.typ !== typ) throw new VcJoseError('bad_typ', `typ must be ${typ}`);
  const cty = opts.kind === 'credential' ? VC_CTY : VP_CTY;
  if (header.cty !== undefined && header.cty !== cty) throw new VcJoseError('bad_typ', `cty, when present, must be ${cty}`);
  // VC-JOSE-COSE §4.1.1 (kid): MUST be present when the key is expressed as a DID URL — the only keys we resolve.
  if (typeof header.kid !== 'string' || !/^did:[a-z0-9]+:[^#\s]+#[^#\s]+$/.test(header.kid)) throw new VcJoseError('key_unresolved', 'kid must be a DID URL naming the verification method');
  const kid = header.kid;
  const kidDid = kid.slice(0, kid.indexOf('#'));

  let document: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('payload is not a JSON object');
    document = parsed as Record<string, unknown>;
  } catch {
    throw new VcJoseError('malformed', 'the JWS payload is not a JSON object');
  }
  // VC-JOSE-COSE §3.1.3: "The JWT Claim Names vc and vp MUST NOT be present."
  if ('vc' in document || 'vp' in document) throw new VcJoseError('forbidden_claim', 'the JWT claims vc and vp must not be present in a VC-JOSE-COSE document');

  // The key belongs to whoever the document says secured it: the issuer of a credential, the holder of a presentation.
  const named = idOf(opts.kind === 'credential' ? document.issuer : document.holder);
  if (opts.kind === 'credential' && named === undefined) throw new VcJoseError('malformed', 'the credential has no issuer');
  const controller = named ?? kidDid;
  if (kidDid !== controller) throw new VcJoseError('issuer_mismatch', `kid is not a key of the ${opts.kind === 'credential' ? 'issuer' : 'holder'}`);
  // VC-JOSE-COSE §4.1.2 (iss): "iss value, if present, MUST match issuer value" (or issuer.id).
  if (document.iss !== undefined && document.iss !== controller) throw new VcJoseError('issuer_mismatch', `iss does not match the ${opts.kind === 'credential' ? 'issuer' : 'holder'}`);

  let key: JWK;
  try {
    key = await opts.resolveKey(kid, controller);
  } catch (e) {
    throw new VcJoseError('key_unresolved', `the signing key could not be resolved: ${(e as Error).message}`);
  }
  let verified;
  try {
    verified = await verifyJws(jws, key, typ);
  } catch (e) {
    const reason = e instanceof JoseVerifyError ? e.reason : 'malformed';
    throw new VcJoseError(reason === 'bad_signature' || reason === 'bad_alg' || reason === 'bad_typ' ? reason : 'malformed', (e as Error).message);
  }
  // VC-JOSE-COSE §3.1.3: iat/exp, when present, are the signature's issuance and expiry (RFC 7519 §4.1.4, §4.1.5).
  const nowS = opts.now / 1000;
  const skew = opts.skewSeconds ?? 60;
  if (document.exp !== undefined && (typeof document.exp !== 'number' || document.exp < nowS - skew)) throw new VcJoseError('expired', 'the signature has expired (exp)');
  if (document.nbf !== undefined && (typeof document.nbf !== 'number' || document.nbf > nowS + skew)) throw new VcJoseError('not_yet_valid', 'the signature is not yet valid (nbf)');
  return { header: verified.header, document, controller, kid };
}
