/** VCDM 2.0 §7.2 Problem Details types. */
export const VCDM_PROBLEM = {
  PARSING_ERROR: 'https://www.w3.org/TR/vc-data-model#PARSING_ERROR',
  CRYPTOGRAPHIC_SECURITY_ERROR: 'https://www.w3.org/TR/vc-data-model#CRYPTOGRAPHIC_SECURITY_ERROR',
  MALFORMED_VALUE_ERROR: 'https://www.w3.org/TR/vc-data-model#MALFORMED_VALUE_ERROR',
  RANGE_ERROR: 'https://www.w3.org/TR/vc-data-model#RANGE_ERROR',
} as const;

/** Stable codes of the rules; used as the last segment of our problem `type` (`urn:id-ideal:problem:vcdm-…`). */
export type VcdmErrorCode =
  | 'vcdm-not-an-object'
  | 'vcdm-context'
  | 'vcdm-type'
  | 'vcdm-issuer'
  | 'vcdm-credential-subject'
  | 'vcdm-date-time'
  | 'vcdm-validity-range'
  | 'vcdm-id'
  | 'vcdm-status'
  | 'vcdm-schema'
  | 'vcdm-name'
  | 'vcdm-related-resource'
  | 'vcdm-refresh-service'
  | 'vcdm-terms-of-use'
  | 'vcdm-evidence'
  | 'vcdm-property-not-allowed';

export class VcdmError extends Error {
  override name = 'VcdmError';
  constructor(
    readonly code: VcdmErrorCode,
    /** Dotted path of the offending property, `(credential)` for the whole document. */
    readonly field: string,
    message: string,
    readonly problemType: string = VCDM_PROBLEM.MALFORMED_VALUE_ERROR,
  ) {
    super(message);
  }
}
