import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { freePort } from '../helpers/net.ts';
import { runLoad, waitHealthy, type BenchResult } from './stats.ts';
import { MELDE as CLAIMS } from '../helpers/fixtures.ts';

const TOKEN = 'bench-issuer-admin-token-0123456789';


/**
 * Full issuance flows over HTTP on loopback against the real issuer process (and registry): create
 * offer (admin), fetch the offer object, token (pre-authorized code + tx_code), nonce, credential
 * with one ES256 key proof. Bounded in time; loopback only.
 */
export async function benchIssuance(opts: { seconds: number; concurrency: number; workers?: number }): Promise<BenchResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'idideal-bench-'));
  const [rp, ip] = await Promise.all([freePort(), freePort()]);
  const env = {
    ...process.env,
    DATA_DIR: dataDir,
    REGISTRY_PORT: String(rp),
    ISSUER_PORT: String(ip),
    ISSUER_ADMIN_TOKEN: TOKEN,
    KEY_ENCRYPTION_SECRET: 'b'.repeat(64),
    LOG_LEVEL: 'warn',
    ...(opts.workers ? { ISSUER_WORKERS: String(opts.workers) } : {}),
  };
  const procs: ChildProcess[] = [];
  const start = (entry: string) => {
    const p = spawn(join('node_modules', '.bin', 'tsx'), [entry], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    procs.push(p);
  };
  start('trust-registry/main.ts');
  await waitHealthy(`http://localhost:${rp}`);
  start('issuer/main.ts');
  const base = `http://127.0.0.1:${ip}`;
  await waitHealthy(base);
  const issuerId = `http://localhost:${ip}/offices/buergerbuero`;
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = await exportJWK(publicKey);

  const flow = async (): Promise<void> => {
    const ok = async (what: string, res: Response, status = 200) => {
      if (res.status !== status) throw new Error(`${what} answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
      return res.json();
    };
    const created = await ok('offer', await fetch(`${base}/api/offices/buergerbuero/offers`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ credential_configuration_id: 'meldebescheinigung_sd_jwt', claims: CLAIMS }) }), 201);
    const offer = await ok('offer object', await fetch(created.credential_offer_uri.replace(`http://localhost:${ip}`, base)));
    const code = offer.grants['urn:ietf:params:oauth:grant-type:pre-authorized_code']['pre-authorized_code'];
    const token = await ok('token', await fetch(`${base}/offices/buergerbuero/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:pre-authorized_code', 'pre-authorized_code': code, tx_code: created.tx_code }) }));
    const { c_nonce } = await ok('nonce', await fetch(`${base}/offices/buergerbuero/nonce`, { method: 'POST' }));
    const proof = await new SignJWT({ aud: issuerId, iat: Math.floor(Date.now() / 1000), nonce: c_nonce }).setProtectedHeader({ alg: 'ES256', typ: 'openid4vci-proof+jwt', jwk }).sign(privateKey);
    const res = await fetch(`${base}/offices/buergerbuero/credential`, { method: 'POST', headers: { authorization: `Bearer ${token.access_token}`, 'content-type': 'application/json' }, body: JSON.stringify({ credential_configuration_id: 'meldebescheinigung_sd_jwt', proofs: { jwt: [proof] } }) });
    if (res.status !== 200) throw new Error(`credential answered ${res.status}: ${await res.text()}`);
    await res.json();
  };

  try {
    return await runLoad('issuance flows', flow, { ...opts, warmup: 50 });
  } finally {
    for (const p of procs) p.kill('SIGTERM');
  }
}
