import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setGlobalConfig } from '@openid4vc/openid4vci';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createDidResolver } from '../../core/did/resolver.ts';
import { vcJoseBitstringLoader } from '../../core/formats/vc-jose-cose/index.ts';
import { boundedFetch, boundedFetchFunction, OutboundFetchError } from '../../core/net/bounded-fetch.ts';
import { DID_DOCUMENT_MAX_BYTES, PROTOCOL_MESSAGE_MAX_BYTES, REGISTRY_SNAPSHOT_MAX_BYTES, STATUS_LIST_MAX_BYTES } from '../../core/net/limits.ts';
import { BitstringStatusClient, vcJwtBitstringLoader } from '../../core/status-list/bitstring-status-client.ts';
import { StatusListClient, type StatusCheck } from '../../core/status-list/status-list-client.ts';
import { SnapshotClient, SnapshotError } from '../../core/trust/snapshot.ts';
import { libraryCallbacks } from '../../issuer/oid4vci-lib.ts';
import { vciClient, vpClient } from '../../wallet-demo/core/protocol-clients.ts';
import { freePort } from '../helpers/net.ts';

/**
 * Issue 18, "Response bodies": every outbound fetch (DID documents, both status-list clients, the
 * registry snapshot, the issuer's library fetches, the wallet's offers and request objects) is
 * bounded in time and size while the body streams in, and follows no redirect. A hostile server on
 * loopback streams an endless body slowly, never answers, or redirects; the server itself counts
 * what it wrote before the connection closed, so the test sees the client hang up, not just fail.
 */

type Handler = (req: IncomingMessage, res: ServerResponse, seen: Seen) => void;

interface Seen {
  /** Body bytes handed to the socket before the connection closed. */
  written: number;
  closed: Promise<number>;
}

let server: Server;
let port: number;
let base: string;
const routes = new Map<string, Handler>();
const seen = new Map<string, Seen[]>();

const CHUNK = 16 * 1024;
/** Enough for a client that never stops reading to be caught: far above every limit, far below a runaway. */
const CAP = 400 * 1024 * 1024;

/** 200 and an endless body, one 16 KiB chunk every 2 ms (about 8 MB/s), honouring back-pressure. */
const endless =
  (headers: Record<string, string> = {}, status = 200): Handler =>
  (_req, res, s) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    const chunk = Buffer.alloc(CHUNK, 0x61);
    const pump = () => {
      if (res.destroyed || s.written >= CAP) return void res.end();
      const more = res.write(chunk);
      s.written += CHUNK;
      if (more) setTimeout(pump, 2);
      else res.once('drain', () => setTimeout(pump, 2));
    };
    pump();
  };

/** Never answers: headers never come. */
const silent: Handler = () => undefined;

/** Headers at once, then one byte every 100 ms: small, but never finished. */
const trickle: Handler = (_req, res, s) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  const t = setInterval(() => {
    if (res.destroyed) return clearInterval(t);
    res.write(' ');
    s.written += 1;
  }, 100);
  res.on('close', () => clearInterval(t));
};

const redirect =
  (to: string): Handler =>
  (_req, res) =>
    void res.writeHead(302, { location: to }).end();

const url = (path: string) => `${base}${path}`;
const requests = (path: string) => seen.get(path) ?? [];

/** Waits for the server to see the (only) request to `path` closed and returns the bytes it wrote. */
async function closedAfter(path: string): Promise<number> {
  const list = requests(path);
  expect(list).toHaveLength(1);
  return Promise.race([list[0]!.closed, new Promise<number>((_, reject) => setTimeout(() => reject(new Error(`the connection for ${path} is still open`)), 3_000))]);
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

/** The OutboundFetchError somewhere in an error's cause chain. */
function outboundCause(e: unknown): OutboundFetchError | undefined {
  for (let c = e; c; c = (c as { cause?: unknown }).cause) if (c instanceof OutboundFetchError) return c;
  return undefined;
}

function expectUnavailable(r: StatusCheck, message: RegExp): void {
  expect(r.ok).toBe(false);
  if (r.ok) return;
  expect(r.code, r.message).toBe('status_unavailable');
  expect(r.message).toMatch(message);
}

beforeAll(async () => {
  setGlobalConfig({ allowInsecureUrls: true });
  server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    let onClose!: (n: number) => void;
    const s: Seen = { written: 0, closed: new Promise((r) => (onClose = r)) };
    res.on('close', () => onClose(s.written));
    seen.set(path, [...requests(path), s]);
    const handler = routes.get(path);
    if (!handler) return void res.writeHead(404).end();
    handler(req, res, s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  routes.clear();
  seen.clear();
});

describe('core/net/bounded-fetch', () => {
  it('cuts an endless body just past the limit: too_large, and the server sees the connection closed', async () => {
    routes.set('/endless', endless());
    const e = await rejection(boundedFetch(url('/endless'), { maxBytes: 100_000, timeoutMs: 10_000 }));
    expect(e).toBeInstanceOf(OutboundFetchError);
    expect((e as OutboundFetchError).code).toBe('too_large');
    const written = await closedAfter('/endless');
    expect(written).toBeGreaterThan(100_000);
    expect(written).toBeLessThan(2 * 100_000);
  });

  it('refuses a Content-Length over the limit before reading the body', async () => {
    routes.set('/declared', endless({ 'content-length': String(CAP) }));
    const e = await rejection(boundedFetch(url('/declared'), { maxBytes: 100_000, timeoutMs: 10_000 }));
    expect((e as OutboundFetchError).code).toBe('too_large');
    expect((e as Error).message).toMatch(/declared/);
    expect(await closedAfter('/declared')).toBeLessThan(100_000);
  });

  it('accepts a body of exactly the limit and refuses one byte more', async () => {
    routes.set('/exact', (_req, res) => void res.writeHead(200).end('x'.repeat(1000)));
    const r = await boundedFetch(url('/exact'), { maxBytes: 1000, timeoutMs: 5_000 });
    expect([r.status, r.bytes.byteLength, r.text()]).toEqual([200, 1000, 'x'.repeat(1000)]);
    expect(((await rejection(boundedFetch(url('/exact'), { maxBytes: 999, timeoutMs: 5_000 }))) as OutboundFetchError).code).toBe('too_large');
  });

  it('a server that never answers is cut at the deadline: timeout, connection closed', async () => {
    routes.set('/silent', silent);
    const started = Date.now();
    const e = await rejection(boundedFetch(url('/silent'), { maxBytes: 100_000, timeoutMs: 300 }));
    expect((e as OutboundFetchError).code).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(2_000);
    await closedAfter('/silent');
  });

  it('the deadline covers the body too: a small body that never ends is cut', async () => {
    routes.set('/trickle', trickle);
    const started = Date.now();
    const e = await rejection(boundedFetch(url('/trickle'), { maxBytes: 100_000, timeoutMs: 500 }));
    expect((e as OutboundFetchError).code).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(2_500);
    expect(await closedAfter('/trickle')).toBeLessThan(20);
  });

  it('follows no redirect: redirect (default) or the 3xx handed back (manual)', async () => {
    routes.set('/moved', redirect('/target'));
    routes.set('/target', (_req, res) => void res.writeHead(200).end('{}'));
    const e = await rejection(boundedFetch(url('/moved'), { maxBytes: 1000, timeoutMs: 5_000 }));
    expect([(e as OutboundFetchError).code, (e as OutboundFetchError).status]).toEqual(['redirect', 302]);
    const r = await boundedFetch(url('/moved'), { maxBytes: 1000, timeoutMs: 5_000, redirect: 'manual' });
    expect([r.status, r.headers.get('location')]).toEqual([302, '/target']);
    expect(requests('/target')).toHaveLength(0);
  });

  it('an error status is http_status with the status, and its (endless) body is not read', async () => {
    routes.set('/error', endless({}, 500));
    const e = await rejection(boundedFetch(url('/error'), { maxBytes: 1_000_000, timeoutMs: 10_000 }));
    expect([(e as OutboundFetchError).code, (e as OutboundFetchError).status]).toEqual(['http_status', 500]);
    expect(await closedAfter('/error')).toBeLessThan(1_000_000);
    // requireOk: false hands it back, still bounded.
    routes.set('/error-small', (_req, res) => void res.writeHead(503).end('down'));
    const r = await boundedFetch(url('/error-small'), { maxBytes: 1000, timeoutMs: 5_000, requireOk: false });
    expect([r.status, r.text()]).toEqual([503, 'down']);
  });

  it('a closed port is network; the caller’s own abort is honoured', async () => {
    const closed = await freePort();
    expect(((await rejection(boundedFetch(`http://127.0.0.1:${closed}/`, { maxBytes: 1000, timeoutMs: 5_000 }))) as OutboundFetchError).code).toBe('network');
    routes.set('/silent', silent);
    const e = await rejection(boundedFetch(url('/silent'), { maxBytes: 1000, timeoutMs: 10_000, signal: AbortSignal.timeout(200) }));
    expect((e as OutboundFetchError).code).toBe('network');
    await closedAfter('/silent');
  });

  it('boundedFetchFunction gives libraries a Response over the bounded body, and rejects past the limit', async () => {
    routes.set('/json', (_req, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end('{"a":1}'));
    routes.set('/endless', endless());
    const f = boundedFetchFunction({ maxBytes: 50_000, timeoutMs: 5_000 });
    const res = await f(url('/json'), { method: 'POST', body: 'x=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect([res.status, res.headers.get('content-type'), await res.json()]).toEqual([200, 'application/json', { a: 1 }]);
    expect(outboundCause(await rejection(f(url('/endless'))))?.code).toBe('too_large');
    expect(await closedAfter('/endless')).toBeLessThan(2 * 50_000);
  });
});

describe('DID resolver (did:web)', () => {
  const did = (path: string) => `did:web:127.0.0.1%3A${port}:${path}`;

  it('an endless DID document: "too large", cut at DID_DOCUMENT_MAX_BYTES', async () => {
    routes.set('/huge/did.json', endless());
    const r = await createDidResolver().resolve(did('huge'));
    expect(r.didDocument).toBeNull();
    expect(r.didResolutionMetadata).toMatchObject({ error: 'notFound', message: 'DID document too large' });
    expect(await closedAfter('/huge/did.json')).toBeLessThan(2 * DID_DOCUMENT_MAX_BYTES);
  });

  it('a server that never answers is cut at the configured deadline', async () => {
    routes.set('/silent/did.json', silent);
    const started = Date.now();
    const r = await createDidResolver({ timeoutMs: 300 }).resolve(did('silent'));
    expect(r.didResolutionMetadata).toMatchObject({ error: 'notFound', message: 'DID document could not be fetched' });
    expect(Date.now() - started).toBeLessThan(2_000);
    await closedAfter('/silent/did.json');
  });

  it('a redirect is not followed', async () => {
    routes.set('/moved/did.json', redirect(url('/target/did.json')));
    const r = await createDidResolver().resolve(did('moved'));
    expect(r.didResolutionMetadata.error).toBe('notFound');
    expect(requests('/target/did.json')).toHaveLength(0);
  });
});

describe('status-list clients', () => {
  // DID documents are not needed: every fetch fails before a signature is looked at.
  const resolver = createDidResolver({ local: () => undefined });
  const issuer = 'did:web:issuer.example';
  const token = (opts: { timeoutMs?: number } = {}) => new StatusListClient({ resolver, maxAgeMs: 60_000, ...opts });
  const vcJwt = (opts: { timeoutMs?: number } = {}) => new BitstringStatusClient({ load: vcJwtBitstringLoader({ resolver, maxAgeMs: 60_000, ...opts }) });
  const vcJose = () => new BitstringStatusClient({ load: vcJoseBitstringLoader({ resolver, maxAgeMs: 60_000 }) });
  const entry = (path: string) => ({ statusPurpose: 'revocation', statusListIndex: '0', statusListCredential: url(path) });

  it('Token Status List: an endless list is "too large", cut at STATUS_LIST_MAX_BYTES', async () => {
    routes.set('/tsl', endless());
    expectUnavailable(await token().check({ uri: url('/tsl'), idx: 0 }, issuer), /too large/);
    expect(await closedAfter('/tsl')).toBeLessThan(2 * STATUS_LIST_MAX_BYTES);
  });

  it('Bitstring Status List (VC-JWT): an endless list is "too large", cut at STATUS_LIST_MAX_BYTES', async () => {
    routes.set('/bsl', endless());
    expectUnavailable(await vcJwt().check(entry('/bsl'), issuer), /too large/);
    expect(await closedAfter('/bsl')).toBeLessThan(2 * STATUS_LIST_MAX_BYTES);
  });

  it('Bitstring Status List (VC-JOSE-COSE): an endless list is "too large", cut at STATUS_LIST_MAX_BYTES', async () => {
    routes.set('/bsl2', endless());
    expectUnavailable(await vcJose().check(entry('/bsl2'), issuer), /too large/);
    expect(await closedAfter('/bsl2')).toBeLessThan(2 * STATUS_LIST_MAX_BYTES);
  });

  it('a list server that never answers is cut at the configured deadline (both clients)', async () => {
    routes.set('/tsl-silent', silent);
    routes.set('/bsl-silent', silent);
    const started = Date.now();
    expectUnavailable(await token({ timeoutMs: 300 }).check({ uri: url('/tsl-silent'), idx: 0 }, issuer), /in time/);
    expectUnavailable(await vcJwt({ timeoutMs: 300 }).check(entry('/bsl-silent'), issuer), /in time/);
    expect(Date.now() - started).toBeLessThan(3_000);
    await closedAfter('/tsl-silent');
    await closedAfter('/bsl-silent');
  });

  it('a redirect is not followed (both clients)', async () => {
    routes.set('/tsl-moved', redirect(url('/target')));
    routes.set('/bsl-moved', redirect(url('/target')));
    expectUnavailable(await token().check({ uri: url('/tsl-moved'), idx: 0 }, issuer), /could not be fetched/);
    expectUnavailable(await vcJwt().check(entry('/bsl-moved'), issuer), /could not be fetched/);
    expect(requests('/target')).toHaveLength(0);
  });
});

describe('registry snapshot client', () => {
  const client = (opts: { timeoutMs?: number } = {}) => new SnapshotClient({ registryUrl: url('/registry'), registryDid: 'did:web:registry.example', resolver: createDidResolver({ local: () => undefined }), ...opts });

  it('an endless snapshot is "too large", cut at REGISTRY_SNAPSHOT_MAX_BYTES', async () => {
    routes.set('/registry/snapshots/latest', endless());
    const e = await rejection(client().refresh());
    expect(e).toBeInstanceOf(SnapshotError);
    expect((e as Error).message).toBe('registry snapshot too large');
    expect(await closedAfter('/registry/snapshots/latest')).toBeLessThan(2 * REGISTRY_SNAPSHOT_MAX_BYTES);
  });

  it('a registry that never answers is cut at the configured deadline; a redirect is not followed', async () => {
    routes.set('/registry/snapshots/latest', silent);
    const started = Date.now();
    expect(((await rejection(client({ timeoutMs: 300 }).refresh())) as Error).message).toBe('registry snapshot could not be fetched');
    expect(Date.now() - started).toBeLessThan(2_000);
    await closedAfter('/registry/snapshots/latest');
    routes.set('/registry/snapshots/latest', redirect(url('/target')));
    await rejection(client().refresh());
    expect(requests('/target')).toHaveLength(0);
  });
});

describe('issuer: the libraries’ fetch (jwks_uri of other servers)', () => {
  it('is bounded: an endless answer is cut at PROTOCOL_MESSAGE_MAX_BYTES', async () => {
    routes.set('/jwks', endless());
    const f = libraryCallbacks(new Map()).fetch!;
    expect(outboundCause(await rejection(f(url('/jwks'))))?.code).toBe('too_large');
    expect(await closedAfter('/jwks')).toBeLessThan(2 * PROTOCOL_MESSAGE_MAX_BYTES);
  });
});

describe('wallet: offers and request objects', () => {
  const offer = (path: string) => `openid-credential-offer://?credential_offer_uri=${encodeURIComponent(url(path))}`;
  const vp = (opts: { timeoutMs?: number } = {}) => vpClient(createDidResolver(), opts);
  const byReference = (path: string) => ({ client_id: 'decentralized_identifier:did:web:verifier.example', request_uri: url(path) });

  it('an endless credential offer: the offer is refused, cut at PROTOCOL_MESSAGE_MAX_BYTES', async () => {
    routes.set('/offer', endless());
    const e = await rejection(vciClient(() => []).resolveCredentialOffer(offer('/offer')));
    expect(outboundCause(e)?.code).toBe('too_large');
    expect(await closedAfter('/offer')).toBeLessThan(2 * PROTOCOL_MESSAGE_MAX_BYTES);
  });

  it('an offer server that never answers is cut at the configured deadline; a redirected offer is not followed', async () => {
    routes.set('/offer-silent', silent);
    const started = Date.now();
    expect(outboundCause(await rejection(vciClient(() => [], { timeoutMs: 300 }).resolveCredentialOffer(offer('/offer-silent'))))?.code).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(2_000);
    await closedAfter('/offer-silent');
    routes.set('/offer-moved', redirect(url('/target')));
    await rejection(vciClient(() => []).resolveCredentialOffer(offer('/offer-moved')));
    expect(requests('/target')).toHaveLength(0);
  });

  it('an endless request object: the request is refused, cut at PROTOCOL_MESSAGE_MAX_BYTES', async () => {
    routes.set('/request', endless({ 'content-type': 'application/oauth-authz-req+jwt' }));
    const e = await rejection(vp().resolveOpenId4vpAuthorizationRequest({ authorizationRequestPayload: byReference('/request') }));
    expect((e as Error).message).toMatch(/request_uri|request_object/);
    expect(await closedAfter('/request')).toBeLessThan(2 * PROTOCOL_MESSAGE_MAX_BYTES);
  });

  it('a request_uri that never answers is cut at the configured deadline; a redirect is not followed (OID4VP 1.0 §14)', async () => {
    routes.set('/request-silent', silent);
    const started = Date.now();
    await rejection(vp({ timeoutMs: 300 }).resolveOpenId4vpAuthorizationRequest({ authorizationRequestPayload: byReference('/request-silent') }));
    expect(Date.now() - started).toBeLessThan(2_000);
    await closedAfter('/request-silent');
    routes.set('/request-moved', redirect(url('/target')));
    await rejection(vp().resolveOpenId4vpAuthorizationRequest({ authorizationRequestPayload: byReference('/request-moved') }));
    expect(requests('/request-moved')).toHaveLength(1);
    expect(requests('/target')).toHaveLength(0);
  });

  it('client_metadata_uri (not in OID4VP 1.0; the library would fetch it unbounded) is refused without a fetch', async () => {
    routes.set('/client-metadata', (_req, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    // An unsigned pre-1.0 request: the library fetches client_metadata_uri (global fetch) before it
    // refuses the unsigned `did:` client, so a hostile link alone would start an unbounded fetch.
    const payload = {
      client_id: 'did:web:verifier.example',
      response_type: 'vp_token',
      response_mode: 'direct_post',
      response_uri: url('/response'),
      nonce: 'n-0S6_WzA2Mj',
      presentation_definition: { id: 'x', input_descriptors: [] },
      client_metadata_uri: url('/client-metadata'),
    };
    const e = await rejection(vp().resolveOpenId4vpAuthorizationRequest({ authorizationRequestPayload: payload as never }));
    expect((e as Error).message).toMatch(/client_metadata_uri/);
    expect(requests('/client-metadata')).toHaveLength(0);
    // The same inside a Request Object signed by a self-made did:jwk.
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwk = await exportJWK(publicKey);
    const did = `did:jwk:${Buffer.from(JSON.stringify({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y })).toString('base64url')}`;
    const jar = await new SignJWT({ ...payload, client_id: did }).setProtectedHeader({ alg: 'ES256', typ: 'oauth-authz-req+jwt', kid: `${did}#0` }).sign(privateKey);
    routes.set('/request-jar', (_req, res) => void res.writeHead(200, { 'content-type': 'application/oauth-authz-req+jwt' }).end(jar));
    await rejection(vp().resolveOpenId4vpAuthorizationRequest({ authorizationRequestPayload: { client_id: did, request_uri: url('/request-jar') } }));
    expect(requests('/request-jar')).toHaveLength(1);
    expect(requests('/client-metadata')).toHaveLength(0);
  });
});
