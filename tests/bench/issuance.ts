import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { freePort } from '../helpers/net.ts';
import { benchServices, loadFetch as fetch, runLoad, waitHealthy, type BenchResult, type LoadResponse } from './stats.ts';
import { MELDE as CLAIMS } from '../helpers/fixtures.ts';

const TOKEN = 'bench-issuer-admin-token-0123456789';


/**
 * Full issuance flows over HTTP on loopback against the real issuer process (and registry): create
 * offer (admin), fetch the offer object, token (pre-authorized code + tx_code), nonce, credential
 * with one ES256 key proof. Bounded in time; loopback only.
 *
 * With `databaseUrl` every service runs on PostgreSQL (schemas of this run, dropped afterwards);
 * with `instances: 2` two issuer processes share it, configured alike (same public URL, so the same
 * issuer identifiers) on different ports, and the steps of each flow alternate between them as a
 * load balancer without session affinity would send them.
 */
export async function benchIssuance(opts: { seconds: number; concurrency: number; workers?: number; databaseUrl?: string; instances?: number; profileDir?: string }): Promise<BenchResult> {
  const instances = Math.max(1, opts.instances ?? 1);
  const [rp, ...ports] = await Promise.all(Array.from({ length: instances + 1 }, () => freePort()));
  const ip = ports[0]!;
  const services = benchServices({
    databaseUrl: opts.databaseUrl,
    profileDir: opts.profileDir,
    env: {
      REGISTRY_PORT: String(rp),
      ISSUER_PORT: String(ip),
      ISSUER_PUBLIC_URL: `http://localhost:${ip}`,
      ISSUER_ADMIN_TOKEN: TOKEN,
      KEY_ENCRYPTION_SECRET: 'b'.repeat(64),
      ...(opts.workers ? { ISSUER_WORKERS: String(opts.workers) } : {}),
    },
  });
  try {
    services.start('trust-registry/main.ts');
    await waitHealthy(`http://localhost:${rp}`);
    // One after another: the first prepares the database (migrations, office keys), the others find it ready.
    for (const port of ports) {
      services.start('issuer/main.ts', { ISSUER_PORT: String(port) });
      await waitHealthy(`http://127.0.0.1:${port}`);
    }
    const bases = ports.map((p) => `http://127.0.0.1:${p}`);
    const issuerId = `http://localhost:${ip}/offices/buergerbuero`;
    let flows = 0;
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwk = await exportJWK(publicKey);

    const flow = async (): Promise<void> => {
      // Step k of flow n goes to instance (n + k) mod instances.
      const n = flows++;
      let step = 0;
      const at = () => bases[(n + step++) % bases.length]!;
      const ok = async (what: string, res: LoadResponse, status = 200) => {
        if (res.status !== status) throw new Error(`${what} answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
        return res.json();
      };
      const created = await ok('offer', await fetch(`${at()}/api/offices/buergerbuero/offers`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ credential_configuration_id: 'meldebescheinigung_sd_jwt', claims: CLAIMS }) }), 201);
      const offer = await ok('offer object', await fetch(created.credential_offer_uri.replace(`http://localhost:${ip}`, at())));
      const code = offer.grants['urn:ietf:params:oauth:grant-type:pre-authorized_code']['pre-authorized_code'];
      const token = await ok('token', await fetch(`${at()}/offices/buergerbuero/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:pre-authorized_code', 'pre-authorized_code': code, tx_code: created.tx_code }) }));
      const { c_nonce } = await ok('nonce', await fetch(`${at()}/offices/buergerbuero/nonce`, { method: 'POST' }));
      const proof = await new SignJWT({ aud: issuerId, iat: Math.floor(Date.now() / 1000), nonce: c_nonce }).setProtectedHeader({ alg: 'ES256', typ: 'openid4vci-proof+jwt', jwk }).sign(privateKey);
      const res = await fetch(`${at()}/offices/buergerbuero/credential`, { method: 'POST', headers: { authorization: `Bearer ${token.access_token}`, 'content-type': 'application/json' }, body: JSON.stringify({ credential_configuration_id: 'meldebescheinigung_sd_jwt', proofs: { jwt: [proof] } }) });
      if (res.status !== 200) throw new Error(`credential answered ${res.status}: ${await res.text()}`);
      await res.json();
    };

    return await runLoad('issuance flows', flow, { ...opts, warmup: 50, cpu: () => services.cpu() });
  } finally {
    await services.stop();
  }
}
