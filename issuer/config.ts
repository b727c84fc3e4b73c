import { ConfigError, conformanceOfficeFromEnv, intFromEnv, loadCommonConfig, type CommonConfig } from '../core/config/env.ts';
import { cityCaFilesFromEnv } from '../core/x509/city-ca.ts';
import type { IssuerSettings } from './deps.ts';

export interface IssuerConfig extends CommonConfig {
  adminToken: string;
  settings: IssuerSettings;
  /** ISSUER_CONFORMANCE_OFFICE=1: the W3C conformance office `konformitaet` (demo mode only; core/config/env.ts). */
  conformanceOffice: boolean;
  /** HAIP: the city CA that certifies the offices' keys (CITY_CA_CERT_FILE, CITY_CA_KEY_FILE; a demo CA in demo mode). */
  cityCa: { certFile?: string; keyFile?: string };
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

/** Issuer settings from the environment (all optional, with defaults). */
export function loadIssuerConfig(env: NodeJS.ProcessEnv = process.env): IssuerConfig {
  const common = loadCommonConfig('issuer', env);
  return {
    ...common,
    adminToken: common.adminToken!,
    conformanceOffice: conformanceOfficeFromEnv(env, common.mode),
    cityCa: cityCaFilesFromEnv(env),
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
      x5c: env.ISSUER_X5C === '1',
    },
  };
}
