import { createHash, KeyObject } from 'node:crypto';
import { decodeJwt } from 'jose';
import { signCompactEs256 } from '../../core/crypto/es256-compact.ts';
import { KB_JWT_TYP, presentSdJwtVc } from '../../core/formats/sd-jwt-vc/index.ts';
import { freePort } from '../helpers/net.ts';
import { freshHolderKey, issueOne } from './issuance.ts';
import { benchServices, loadFetch as fetch, runLoad, waitHealthy, type BenchResult } from './stats.ts';

const ISSUER_TOKEN = 'bench-issuer-admin-token-0123456789';
const VERIFIER_TOKEN = 'bench-verifier-admin-token-0123456789';


/**
 * Presentations verified per second over HTTP on loopback against the real verifier process:
 * create the request (counter API), fetch the request object (wallet), present with a fresh KB-JWT
 * (client side, holders' credentials taken in turn from a pool), post the response; the verifier checks signature, disclosures, key binding,
 * registry (cached snapshot) and status list (cached). Loopback only, bounded in time.
 *
 * With `databaseUrl` every service runs on PostgreSQL (schemas of this run, dropped afterwards);
 * with `instances: 2` two verifier processes share it (same public URL, different ports) and the
 * steps of each verification alternate between them.
 */
export async function benchVerification(opts: { seconds: number; concurrency: number; workers?: number; databaseUrl?: string; instances?: number; profileDir?: string }): Promise<BenchResult> {
  const instances = Math.max(1, opts.instances ?? 1);
  const [rp, ip, ...vports] = await Promise.all(Array.from({ length: instances + 2 }, () => freePort()));
  const vp = vports[0]!;
  const services = benchServices({
    databaseUrl: opts.databaseUrl,
    profileDir: opts.profileDir,
    env: {
      REGISTRY_PORT: String(rp),
      ISSUER_PORT: String(ip),
      VERIFIER_PORT: String(vp),
      VERIFIER_PUBLIC_URL: `http://localhost:${vp}`,
      ISSUER_ADMIN_TOKEN: ISSUER_TOKEN,
      VERIFIER_ADMIN_TOKEN: VERIFIER_TOKEN,
      KEY_ENCRYPTION_SECRET: 'd'.repeat(64),
      ...(opts.workers ? { VERIFIER_WORKERS: String(opts.workers) } : {}),
    },
  });
  const start = services.start;
  start('trust-registry/main.ts');
  start('issuer/main.ts');
  start('verifier/main.ts');
  try {
    await Promise.all([rp, ip, vp].map((p) => waitHealthy(`http://localhost:${p}`)));
    // Further verifier instances once the first has prepared the database.
    for (const port of vports.slice(1)) {
      start('verifier/main.ts', { VERIFIER_PORT: String(port) });
      await waitHealthy(`http://127.0.0.1:${port}`);
    }
    // Credentials for the holders, over OID4VCI, before the measured window: a pool of BENCH_HOLDER_POOL
    // (default 256) credentials, each bound to a holder key of its own, taken in turn. Not one key per
    // flow (that would need one issuance per verification inside the window); the verifier keeps no
    // state keyed by the holder key (its caches: trust snapshot, status lists, issuers' DID documents).
    const poolSize = Math.max(1, Number(process.env.BENCH_HOLDER_POOL ?? 256));
    const holders: { credential: string; holderKey: KeyObject; presented?: { paths: string; sdJwt: string; sdHash: string } }[] = [];
    let started = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (started++ < poolSize) {
          const holder = await freshHolderKey();
          const credential = await issueOne({ at: () => `http://127.0.0.1:${ip}`, publicBase: `http://localhost:${ip}`, office: 'buergerbuero', adminToken: ISSUER_TOKEN, holder });
          holders.push({ credential, holderKey: holder.privateKey });
        }
      }),
    );
    const bases = vports.map((p) => `http://127.0.0.1:${p}`);
    let flows = 0;

    // The wallet's part of a flow. A holder's first presentation for a query is built by the wallet
    // core (presentSdJwtVc: Disclosures chosen for the query, KB-JWT signed); for the same query again
    // it keeps that SD-JWT part and its sd_hash (RFC 9901 §4.3.1) and signs a new KB-JWT with the
    // request's nonce and audience, as a wallet that keeps its credentials decoded would. The bytes
    // the verifier gets are those presentSdJwtVc would give; the load generator shares the two cores
    // with the services it measures, and re-decoding the credential every flow was a third of its CPU.
    const present = async (holder: (typeof holders)[number], ro: Record<string, any>): Promise<string> => {
      const disclose = ro.dcql_query.credentials[0].claims.map((c: { path: string[] }) => c.path);
      const iat = Math.floor(Date.now() / 1000);
      const paths = JSON.stringify(disclose);
      if (holder.presented?.paths !== paths) {
        const full = await presentSdJwtVc({ sdJwt: holder.credential, disclose, holderKey: holder.holderKey, aud: ro.client_id, nonce: ro.nonce, iat });
        const sdJwt = full.slice(0, full.lastIndexOf('~') + 1);
        holder.presented = { paths, sdJwt, sdHash: createHash('sha256').update(sdJwt).digest('base64url') };
        return full;
      }
      const { sdJwt, sdHash } = holder.presented;
      return sdJwt + signCompactEs256(holder.holderKey, { typ: KB_JWT_TYP, alg: 'ES256' }, { iat, aud: ro.client_id, nonce: ro.nonce, sd_hash: sdHash });
    };

    const flow = async () => {
      // Step k of verification n goes to instance (n + k) mod instances.
      const n = flows++;
      let step = 0;
      const at = () => bases[(n + step++) % bases.length]!;
      const created = await (await fetch(`${at()}/api/verifiers/buergerbuero/requests`, { method: 'POST', headers: { authorization: `Bearer ${VERIFIER_TOKEN}`, 'content-type': 'application/json' }, body: '{"template":"meldebescheinigung"}' })).json();
      const u = new URL(created.authorization_request);
      const ro = decodeJwt(await (await fetch(u.searchParams.get('request_uri')!.replace(`http://localhost:${vp}`, at()))).text()) as Record<string, any>;
      const vpToken = await present(holders[n % holders.length]!, ro);
      const res = await fetch(ro.response_uri.replace(`http://localhost:${vp}`, at()), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ vp_token: JSON.stringify({ meldebescheinigung: [vpToken] }), state: ro.state }) });
      if (res.status !== 200) throw new Error(`response answered ${res.status}: ${await res.text()}`);
      const verdict = await (await fetch(`${at()}/api/verifiers/buergerbuero/requests/${created.request_id}`, { headers: { authorization: `Bearer ${VERIFIER_TOKEN}` } })).json();
      if (verdict.status !== 'verified') throw new Error(`verdict ${verdict.status}: ${JSON.stringify(verdict.result?.errors)}`);
    };
    return await runLoad('verifications', flow, { ...opts, warmup: 30, cpu: () => services.cpu() });
  } finally {
    await services.stop();
  }
}
