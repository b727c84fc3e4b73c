/**
 * SD-JWT VC credential format (draft-ietf-oauth-sd-jwt-vc over RFC 9901): issue, present, verify.
 * Only ES256 and `_sd_alg` sha-256; compact serialization only (no JWS JSON serialization).
 */
export { issueSdJwtVc, type IssueSdJwtVcArgs, type DisclosablePath } from './issue-sd-jwt-vc.ts';
export { presentSdJwtVc, type PresentSdJwtVcArgs } from './present-sd-jwt-vc.ts';
export { verifySdJwtVc, type VerifySdJwtVcArgs } from './verify-sd-jwt-vc.ts';
export { verifySdJwt, type VerifySdJwtArgs, type VerifyOptions, type IssuerKeyResolver, type KeyBindingPolicy } from './verify-sd-jwt.ts';
export {
  SD_JWT_VC_FAILURE_CODES,
  SdJwtVcUsageError,
  type SdJwtVcFailureCode,
  type SdJwtVcVerifyResult,
  type SdJwtVcVerified,
  type SdJwtVerifyResult,
  type SdJwtVerified,
  type VerifyFailure,
  type KeyBindingClaims,
  type StatusListReference,
} from './result.ts';
export type { ClaimPath, ClaimPathSegment, ConcretePath } from './claim-path.ts';
export { SD_JWT_VC_TYP, KB_JWT_TYP, NON_DISCLOSABLE_CLAIMS } from './profile.ts';
export { SD_ALG, type SaltGenerator } from './hasher.ts';
