/** VCDM 2.0 credentials and presentations secured with JOSE (W3C VC-JOSE-COSE, REC 2025-05-15). */
export { envelopeCredential, EnvelopeError, parseEnvelope, VC_CTY, VC_JWT_MEDIA_TYPE, VC_JWT_TYP, VP_CTY, VP_JWT_MEDIA_TYPE, VP_JWT_TYP, type Enveloped, type EnvelopedVerifiableCredential } from './envelope.ts';
export { signCredentialJose } from './sign-vc-jose.ts';
export { VcJoseError, verifyJoseSecured, type VcJoseFailure, type VerifiedJose, type VerifyJoseOptions } from './verify-vc-jose.ts';
export { signStatusListCredentialV2, vcJoseBitstringLoader } from './bitstring-status-v2.ts';
