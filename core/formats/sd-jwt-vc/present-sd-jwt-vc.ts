import type { KeyObject } from 'node:crypto';
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import type { JWK } from 'jose';
import { sameJwkKey } from '../../crypto/jwk.ts';
import type { Signer } from '../../crypto/jws.ts';
import { type ClaimPath, type ConcretePath, formatPath, isPathPrefix, resolveClaimPath } from './claim-path.ts';
import { decodeJsonObject, parseCompact } from './compact.ts';
import { assertP256Private, es256Sign, publicJwkOf } from './es256.ts';
import { sha256Hasher } from './hasher.ts';
import { type PlacedDisclosure, processDisclosures } from './process-disclosures.ts';
import { SdJwtVcUsageError } from './result.ts';

export interface PresentSdJwtVcArgs {
  /** The SD-JWT as issued to the holder (`<jwt>~<disclosure>~…~`, no KB-JWT). */
  sdJwt: string;
  /**
   * Claims to reveal, as claims path pointers (OpenID4VP 1.0 §7), e.g. `[['vorname'], ['anschrift', 'ort']]`.
   * Revealing a claim reveals the Disclosures of its enclosing objects/arrays (RFC 9901 §7.2 step 2)
   * and, when it is an object or array, everything inside it. Array indices count the elements
   * as the holder sees them. Empty: only the always-visible claims.
   */
  disclose: readonly ClaimPath[];
  /** The holder's private key, matching the credential's `cnf.jwk`. */
  holderKey: KeyObject | Pick<Signer, 'privateKey'>;
  /** Verifier identifier for the KB-JWT `aud` (RFC 9901 §4.3). */
  aud: string;
  /** Verifier-provided nonce for the KB-JWT. */
  nonce: string;
  /** KB-JWT `iat`, seconds since the epoch. */
  iat: number;
}

/**
 * Builds an SD-JWT+KB (RFC 9901 §4, §7.2): the Issuer-signed JWT, exactly the Disclosures the
 * requested claims need, and a KB-JWT (`typ: kb+jwt`, `sd_hash` over the presented SD-JWT) signed
 * with the holder key. Throws SdJwtVcUsageError when the credential or a path is unusable; a
 * claim that is not in the credential is an error (OpenID4VP 1.0 §6.4.1: a wallet that cannot
 * deliver all requested claims must not return the credential).
 */
export async function presentSdJwtVc(args: PresentSdJwtVcArgs): Promise<string> {
  const { sdJwt, disclose, aud, nonce, iat } = args;
  const privateKey = 'privateKey' in args.holderKey ? args.holderKey.privateKey : args.holderKey;
  assertP256Private(privateKey, 'holderKey');
  if (typeof aud !== 'string' || aud === '') throw new SdJwtVcUsageError('aud must be a non-empty string');
  if (typeof nonce !== 'string' || nonce === '') throw new SdJwtVcUsageError('nonce must be a non-empty string');
  if (!Number.isSafeInteger(iat)) throw new SdJwtVcUsageError('iat must be an integer number of seconds');

  const parts = parseCompact(sdJwt);
  if (typeof parts === 'string') throw new SdJwtVcUsageError(`not an SD-JWT: ${parts}`);
  // RFC 9901 §7.2: the issuer provides an SD-JWT, never an SD-JWT+KB.
  if (parts.kbJwt) throw new SdJwtVcUsageError('the credential already carries a KB-JWT');
  const payload = decodeJsonObject(parts.jwt.split('.')[1] ?? '');
  if (!payload) throw new SdJwtVcUsageError('undecodable Issuer-signed JWT payload');
  const processed = processDisclosures(payload, parts.disclosures);
  if (!processed.ok) throw new SdJwtVcUsageError(`credential rejected (${processed.code}): ${processed.message}`);
  assertHolderKeyMatchesCnf(payload, privateKey);

  const targets: ConcretePath[] = disclose.flatMap((pointer) => {
    const resolved = resolveClaimPath(processed.claims, pointer);
    if (typeof resolved === 'string') throw new SdJwtVcUsageError(`cannot disclose ${formatPath(pointer)}: ${resolved}`);
    return resolved;
  });
  // RFC 9901 §7.2 step 2: every Disclosure sent must hang off the JWT or off another sent Disclosure,
  // so a claim takes its ancestors' Disclosures along; revealing an object reveals its whole content.
  const selected = processed.placed.filter((p) => targets.some((t) => isPathPrefix(p.path, t) || isPathPrefix(t, p.path)));

  const sdjwt = new SDJwtVcInstance({ hasher: sha256Hasher, kbSigner: es256Sign(privateKey), kbSignAlg: 'ES256' });
  // The library assembles the presentation, computes sd_hash and signs the KB-JWT.
  const presentation = await sdjwt.present(parts.sdJwt, presentationFrame(selected) as never, { kb: { payload: { iat, aud, nonce } } });

  // The library selects by dotted key strings (`a.b`, `arr.0`), which are ambiguous when a claim
  // name contains a dot; never send more (or less) than was chosen above.
  const sent = parseCompact(presentation);
  const expected = new Set(selected.map((p) => p.disclosure.encoded));
  if (typeof sent === 'string' || sent.disclosures.length !== expected.size || sent.disclosures.some((d) => !expected.has(d))) {
    throw new Error('presentation does not contain exactly the selected Disclosures');
  }
  return presentation;
}

/** Library PresentationFrame: `{ name: true, obj: { member: true }, arr: { 0: true } }` keyed by issuer-payload positions. */
function presentationFrame(selected: readonly PlacedDisclosure[]): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const { rawPath } of selected) {
    let node = root;
    rawPath.forEach((seg, i) => {
      const key = String(seg);
      const last = i === rawPath.length - 1;
      const current = node[key];
      if (last) {
        if (current === undefined) node[key] = true; // an object node already implies its own key
      } else {
        if (typeof current !== 'object' || current === null) node[key] = {};
        node = node[key] as Record<string, unknown>;
      }
    });
  }
  return root;
}

/** A presentation signed with a key other than `cnf.jwk` could never verify; fail early and clearly. */
function assertHolderKeyMatchesCnf(payload: Record<string, unknown>, privateKey: KeyObject): void {
  const cnf = payload['cnf'];
  const jwk = typeof cnf === 'object' && cnf !== null ? (cnf as { jwk?: unknown }).jwk : undefined;
  if (typeof jwk !== 'object' || jwk === null) throw new SdJwtVcUsageError('the credential has no cnf.jwk to bind the presentation to');
  let same: boolean;
  try {
    same = sameJwkKey(jwk as JWK, publicJwkOf(privateKey));
  } catch {
    same = false;
  }
  if (!same) throw new SdJwtVcUsageError('holderKey does not match the credential cnf.jwk');
}
