import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LEIPZIG } from '../leipzig.ts';
import { DEMO_IDP_CLIENT_ID, DEMO_IDP_DEFAULT_PORT, demoIdpClientSecret, demoIdpUrl } from './demo-client.ts';
import { createDemoIdp } from './provider.ts';

/**
 * DEMO ONLY: the demo identity provider ("Bürgerkonto Leipzig (Demo)") on IDP_PORT (default 3005),
 * public at IDP_PUBLIC_URL. Started by `npm start` (scripts/start-all.ts); refuses production mode.
 * Its one client is the issuer, with the redirect URIs of the demo offices that offer self-service.
 */
async function keyEncryptionSecret(): Promise<string> {
  if (process.env.KEY_ENCRYPTION_SECRET) return process.env.KEY_ENCRYPTION_SECRET;
  // Demo mode: the secret the services created in DATA_DIR (core/config/env.ts); they start together, so wait for it.
  const file = join(resolve(process.env.DATA_DIR ?? './.data'), 'secrets', 'key-encryption.secret');
  for (let i = 0; i < 300; i++) {
    if (existsSync(file)) {
      const v = readFileSync(file, 'utf8').trim();
      if (/^[0-9a-fA-F]{64}$/.test(v)) return v;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no key-encryption secret in ${file}; set KEY_ENCRYPTION_SECRET or ISSUER_OIDC_CLIENT_SECRET`);
}

async function main(): Promise<void> {
  if (process.env.NODE_ENV === 'production') throw new Error('the demo identity provider does not run in production mode');
  const port = Number(process.env.IDP_PORT ?? DEMO_IDP_DEFAULT_PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('IDP_PORT must be a port number');
  const issuerService = (process.env.ISSUER_PUBLIC_URL ?? `http://localhost:${process.env.ISSUER_PORT ?? 3001}`).replace(/\/$/, '');
  const redirectUris = LEIPZIG.offices.filter((o) => o.self_service).map((o) => `${issuerService}/offices/${o.slug}/login/callback`);
  const clientSecret = process.env.ISSUER_OIDC_CLIENT_SECRET ?? demoIdpClientSecret(await keyEncryptionSecret());
  const app = await createDemoIdp({ issuer: demoIdpUrl(process.env), client: { clientId: process.env.ISSUER_OIDC_CLIENT_ID ?? DEMO_IDP_CLIENT_ID, clientSecret, redirectUris } });
  const server = app.listen(port, process.env.HOST ?? '127.0.0.1', () => console.log(`[demo] identity provider (demo only, fictional citizens) at ${demoIdpUrl(process.env)}`));
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((e) => {
  console.error(`demo-idp: ${(e as Error).message}`);
  process.exit(1);
});
