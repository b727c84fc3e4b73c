import { SD_JWT_VC_TYP, NON_DISCLOSABLE_CLAIMS } from './profile.ts';
import { type SdJwtVcVerifyResult, type SdJwtVerified, type StatusListReference, fail } from './result.ts';
import { type VerifyOptions, verifySdJwt } from './verify-sd-jwt.ts';

export type VerifySdJwtVcArgs = VerifyOptions;

/**
 * Verifies an SD-JWT VC presentation (SD-JWT VC §2.4): RFC 9901 §7.1/§7.3 with `typ` `dc+sd-jwt`,
 * then the SD-JWT VC claim rules. Key Binding is required unless `requireKeyBinding: false`.
 * The `status` claim is returned for the caller to check (SD-JWT VC §2.4: it SHOULD be checked);
 * it is not fetched here.
 */
export async function verifySdJwtVc(args: VerifySdJwtVcArgs): Promise<SdJwtVcVerifyResult> {
  const result = await verifySdJwt({ ...args, typ: SD_JWT_VC_TYP });
  if (!result.ok) return result;
  return checkVcClaims(result);
}

function checkVcClaims(r: SdJwtVerified): SdJwtVcVerifyResult {
  // SD-JWT VC §2.2.2.3: iss, nbf, exp, cnf, vct, vct#integrity, aka_vcts, status and their
  // sub-claims MUST NOT be selectively disclosed.
  const leaked = r.disclosedPaths.find((path) => NON_DISCLOSABLE_CLAIMS.includes(String(path[0])));
  if (leaked) return fail('disclosure_invalid', `claim ${String(leaked[0])} must not be selectively disclosable`);

  const p = r.payload;
  // SD-JWT VC §2.2.2.1, §2.2.2.3: vct REQUIRED, a string.
  const vct = p['vct'];
  if (typeof vct !== 'string' || vct === '') return fail('malformed', 'vct missing or not a string');
  // SD-JWT VC makes iss OPTIONAL; this trust network identifies every issuer by its DID in iss.
  const iss = p['iss'];
  if (typeof iss !== 'string' || iss === '') return fail('malformed', 'iss missing or not a string');
  // Types already checked by verifySdJwt (RFC 9901 §7.1 step 6); `iat` MAY be disclosed (§2.2.2.3), so read the processed payload.
  const times: Partial<Record<'iat' | 'exp' | 'nbf', number>> = {};
  for (const name of ['iat', 'exp', 'nbf'] as const) {
    const v = r.claims[name];
    if (typeof v === 'number') times[name] = v;
  }
  let status: StatusListReference | undefined;
  if (p['status'] !== undefined) {
    status = statusReference(p['status']);
    if (!status) return fail('malformed', 'status is not { status_list: { idx, uri } }');
  }
  return { ...r, vct, iss, ...times, ...(status ? { status } : {}) };
}

/** draft-ietf-oauth-status-list §6.2: `status_list` with a non-negative integer `idx` and a string `uri`. */
function statusReference(value: unknown): StatusListReference | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const list = (value as Record<string, unknown>)['status_list'];
  if (typeof list !== 'object' || list === null) return undefined;
  const { idx, uri } = list as Record<string, unknown>;
  if (!Number.isSafeInteger(idx) || (idx as number) < 0 || typeof uri !== 'string' || uri === '') return undefined;
  return { status_list: { idx: idx as number, uri } };
}
