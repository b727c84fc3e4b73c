import { intFromEnv, loadCommonConfig, type CommonConfig } from '../core/config/env.ts';
import type { IssuerSettings } from './deps.ts';

export interface IssuerConfig extends CommonConfig {
  adminToken: string;
  settings: IssuerSettings;
}

const int = intFromEnv;

/** Issuer settings from the environment (all optional, with defaults). */
export function loadIssuerConfig(env: NodeJS.ProcessEnv = process.env): IssuerConfig {
  const common = loadCommonConfig('issuer', env);
  return {
    ...common,
    adminToken: common.adminToken!,
    settings: {
      offerTtl: int('ISSUER_OFFER_TTL', env, 1800, 60, 7 * 86_400),
      accessTokenTtl: int('ISSUER_ACCESS_TOKEN_TTL', env, 300, 30, 3600),
      deferredAccessTokenTtl: int('ISSUER_DEFERRED_ACCESS_TOKEN_TTL', env, 7 * 86_400, 300, 30 * 86_400),
      nonceTtl: int('ISSUER_NONCE_TTL', env, 300, 30, 3600),
      batchSize: int('ISSUER_BATCH_SIZE', env, 10, 1, 50),
      statusListSize: int('ISSUER_STATUS_LIST_SIZE', env, 131_072, 1024, 8_388_608),
      trustMaxAge: int('ISSUER_TRUST_MAX_AGE', env, 60, 0, 3600),
      keyRefresh: int('ISSUER_KEY_REFRESH', env, 30, 1, 3600),
    },
  };
}
