import { createHmac } from 'node:crypto';

/**
 * The issuer as a client of the demo identity provider (core/demo/idp/). DEMO ONLY: in production
 * the city registers the issuer at its own provider and sets ISSUER_OIDC_ISSUER,
 * ISSUER_OIDC_CLIENT_ID and ISSUER_OIDC_CLIENT_SECRET (issuer/config.ts).
 */
export const DEMO_IDP_CLIENT_ID = 'id-ideal-issuer';
export const DEMO_IDP_DEFAULT_PORT = 3005;

/**
 * The demo client secret, derived from the key-encryption secret both processes share through
 * DATA_DIR (or KEY_ENCRYPTION_SECRET), so that no secret is written into a file or the code.
 */
export function demoIdpClientSecret(keyEncryptionSecretHex: string): string {
  return createHmac('sha256', Buffer.from(keyEncryptionSecretHex, 'hex')).update('id-ideal:demo-idp-client-secret').digest('base64url');
}

/** The demo IdP's public URL as both the IdP and the issuer read it from the environment. */
export function demoIdpUrl(env: NodeJS.ProcessEnv): string {
  return (env.IDP_PUBLIC_URL ?? `http://localhost:${env.IDP_PORT ?? DEMO_IDP_DEFAULT_PORT}`).replace(/\/$/, '');
}
