import { ConfigError, checkPublicUrl, conformanceOfficeFromEnv, intFromEnv, loadCommonConfig, type CommonConfig } from '../core/config/env.ts';
import { DEMO_IDP_CLIENT_ID, demoIdpClientSecret, demoIdpUrl } from '../core/demo/idp/demo-client.ts';
import { cityCaFilesFromEnv } from '../core/x509/city-ca.ts';
import { TrustAnchors } from '../core/x509/trust-anchors.ts';
import type { IssuerSettings, OidcSettings } from './deps.ts';

export interface IssuerConfig extends CommonConfig {
  adminToken: string;
  settings: IssuerSettings;
  /** ISSUER_CONFORMANCE_OFFICE=1: the W3C conformance office `konformitaet` (demo mode only; core/config/env.ts). */
  conformanceOffice: boolean;
  /** HAIP: the city CA that certifies the offices' keys (CITY_CA_CERT_FILE, CITY_CA_KEY_FILE; a demo CA in demo mode). */
  cityCa: { certFile?: string; keyFile?: string };
  /** HAIP: CAs of wallet providers whose wallet and key attestations are accepted (ISSUER_WALLET_PROVIDER_CA_FILES; in demo mode also the demo city CA). */
  walletProviders: TrustAnchors;
  /** Self-service (issue 17): the city's OpenID Connect provider; absent: no office offers self-service. */
  oidc?: OidcSettings;
}

/**
 * ISSUER_OIDC_ISSUER, ISSUER_OIDC_CLIENT_ID, ISSUER_OIDC_CLIENT_SECRET: the city identity provider
 * for self-service logins (docs/self-service.md). Demo mode defaults to the demo IdP
 * (core/demo/idp/, IDP_PUBLIC_URL or IDP_PORT) with a client secret derived from the key-encryption
 * secret; `ISSUER_OIDC_ISSUER=none` turns self-service off. Production: all three or none.
 */
function oidcFromEnv(env: NodeJS.ProcessEnv, common: CommonConfig): OidcSettings | undefined {
  const production = common.mode === 'production';
  if (env.ISSUER_OIDC_ISSUER === 'none') return undefined;
  if (!env.ISSUER_OIDC_ISSUER) {
    if (production) {
      if (env.ISSUER_OIDC_CLIENT_ID || env.ISSUER_OIDC_CLIENT_SECRET) throw new ConfigError('ISSUER_OIDC_CLIENT_ID and ISSUER_OIDC_CLIENT_SECRET need ISSUER_OIDC_ISSUER');
      return undefined;
    }
    return { issuer: checkPublicUrl('IDP_PUBLIC_URL', demoIdpUrl(env), false), clientId: DEMO_IDP_CLIENT_ID, clientSecret: demoIdpClientSecret(common.keyEncryptionSecret) };
  }
  const issuer = checkPublicUrl('ISSUER_OIDC_ISSUER', env.ISSUER_OIDC_ISSUER, production);
  const clientId = env.ISSUER_OIDC_CLIENT_ID ?? (production ? undefined : DEMO_IDP_CLIENT_ID);
  const clientSecret = env.ISSUER_OIDC_CLIENT_SECRET ?? (production ? undefined : demoIdpClientSecret(common.keyEncryptionSecret));
  if (!clientId || clientId.length > 200) throw new ConfigError('ISSUER_OIDC_CLIENT_ID is required with ISSUER_OIDC_ISSUER (at most 200 characters)');
  if (!clientSecret || clientSecret.length < 16 || clientSecret.length > 500) throw new ConfigError('ISSUER_OIDC_CLIENT_SECRET is required with ISSUER_OIDC_ISSUER (16 to 500 characters)');
  return { issuer, clientId, clientSecret };
}

const int = intFromEnv;

/**
 * ISSUER_STATUS_LIST_SIZE: entries per status list (default 131,072); when an office's newest list is
 * full, the next is opened. A multiple of 8 (draft-ietf-oauth-status-list §13.4: size in bits
 * divisible by 8). Herd privacy grows with the size (§12.1), so production mode refuses lists under
 * 1,024 entries; tests use 16 to fill lists quickly.
 */
function statusListSize(env: NodeJS.ProcessEnv, mode: CommonConfig['mode']): number {
  const size = int('ISSUER_STATUS_LIST_SIZE', env, 131_072, mode === 'production' ? 1024 : 16, 8_388_608);
  if (size % 8 !== 0) throw new ConfigError('ISSUER_STATUS_LIST_SIZE must be a multiple of 8');
  return size;
}

/**
 * ISSUER_X5C: `1` (default) signs SD-JWT VCs with the office's certificate as `x5c` and its https
 * Credential Issuer Identifier as `iss` whenever a city CA is configured (HAIP; docs/haip.md); `0` keeps
 * the did:web `iss` and `kid` only (an opt-out for verifiers that know no city CA). Without a city CA
 * the setting has no effect.
 */
function x5cFromEnv(env: NodeJS.ProcessEnv): boolean {
  const v = env.ISSUER_X5C;
  if (v === undefined || v === '' || v === '1') return true;
  if (v === '0') return false;
  throw new ConfigError('ISSUER_X5C must be 0 or 1');
}

/** Issuer settings from the environment (all optional, with defaults). */
export function loadIssuerConfig(env: NodeJS.ProcessEnv = process.env): IssuerConfig {
  const common = loadCommonConfig('issuer', env);
  return {
    ...common,
    adminToken: common.adminToken!,
    conformanceOffice: conformanceOfficeFromEnv(env, common.mode),
    cityCa: cityCaFilesFromEnv(env),
    walletProviders: TrustAnchors.fromEnv('ISSUER_WALLET_PROVIDER_CA_FILES', env, { mode: common.mode, dataDir: common.dataDir }),
    oidc: oidcFromEnv(env, common),
    settings: {
      offerTtl: int('ISSUER_OFFER_TTL', env, 1800, 60, 7 * 86_400),
      accessTokenTtl: int('ISSUER_ACCESS_TOKEN_TTL', env, 300, 30, 3600),
      deferredAccessTokenTtl: int('ISSUER_DEFERRED_ACCESS_TOKEN_TTL', env, 7 * 86_400, 300, 30 * 86_400),
      nonceTtl: int('ISSUER_NONCE_TTL', env, 300, 30, 3600),
      batchSize: int('ISSUER_BATCH_SIZE', env, 10, 1, 50),
      statusListSize: statusListSize(env, common.mode),
      trustMaxAge: int('ISSUER_TRUST_MAX_AGE', env, 60, 0, 3600),
      keyRefresh: int('ISSUER_KEY_REFRESH', env, 30, 1, 3600),
      catalogRefresh: int('CATALOG_REFRESH', env, 2, 1, 3600),
      x5c: x5cFromEnv(env),
    },
  };
}
