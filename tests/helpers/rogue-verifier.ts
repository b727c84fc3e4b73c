import { createServer } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { VCT } from '../../core/demo/leipzig.ts';

/**
 * A self-made "verifier" on loopback that nobody registered: its own did:jwk signs a correct-looking
 * OID4VP request for the Meldebescheinigung claims `paths`. It serves that request object and keeps
 * every body posted to it, so a test can show that only a refusal reached it.
 */
export async function startRogueVerifier(paths: string[][]): Promise<{ did: string; link: string; posted: string[]; close(): void }> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const { kty, crv, x, y } = await exportJWK(publicKey);
  const did = `did:jwk:${Buffer.from(JSON.stringify({ crv, kty, x, y })).toString('base64url')}`;
  const posted: string[] = [];
  let jwt = '';
  const server = createServer((req, res) => {
    if (req.method !== 'POST') {
      res.setHeader('content-type', 'application/oauth-authz-req+jwt');
      res.end(jwt);
      return;
    }
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      posted.push(body);
      res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  jwt = await new SignJWT({
    client_id: `decentralized_identifier:${did}`,
    response_type: 'vp_token',
    response_mode: 'direct_post',
    response_uri: `http://localhost:${port}/response`,
    nonce: 'n'.repeat(32),
    state: 's'.repeat(32),
    dcql_query: { credentials: [{ id: 'm', format: 'dc+sd-jwt', meta: { vct_values: [VCT.meldebescheinigung] }, claims: paths.map((path) => ({ path })) }] },
    client_metadata: { vp_formats_supported: { 'dc+sd-jwt': {} } },
  })
    .setProtectedHeader({ alg: 'ES256', typ: 'oauth-authz-req+jwt', kid: `${did}#0` })
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(privateKey);
  const link = `openid4vp://?client_id=${encodeURIComponent(`decentralized_identifier:${did}`)}&request_uri=${encodeURIComponent(`http://localhost:${port}/request`)}`;
  return { did, link, posted, close: () => server.close() };
}
