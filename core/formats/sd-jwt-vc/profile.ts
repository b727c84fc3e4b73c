/** SD-JWT VC §2.2.1 (JOSE Header): the Issuer-signed JWT's `typ` MUST be `dc+sd-jwt`. */
export const SD_JWT_VC_TYP = 'dc+sd-jwt';

/** RFC 9901 §4.3: the KB-JWT's `typ` MUST be `kb+jwt`. */
export const KB_JWT_TYP = 'kb+jwt';

/**
 * SD-JWT VC §2.2.2.3 (Registered JWT Claims): these claims, "including any of their sub-claims",
 * MUST NOT be included in Disclosures. (`sub` and `iat` MAY be disclosed; our issuer keeps `iat`
 * in plaintext anyway.) @sd-jwt/sd-jwt-vc 0.19 refuses only iss, nbf, exp, cnf, vct and status.
 */
export const NON_DISCLOSABLE_CLAIMS: readonly string[] = ['iss', 'nbf', 'exp', 'cnf', 'vct', 'vct#integrity', 'aka_vcts', 'status'];

/** Top-level names `issueSdJwtVc` sets from its own arguments or that SD-JWT reserves (RFC 9901 §4.1 item 7, §4.1.1). */
export const ISSUER_SET_CLAIMS: readonly string[] = [...NON_DISCLOSABLE_CLAIMS, 'iat', '_sd', '_sd_alg', '...'];
