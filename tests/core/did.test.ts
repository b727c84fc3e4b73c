import { describe, expect, it } from 'vitest';
import { didWebDocumentUrl, didWebFor } from '../../core/did/did-web.ts';
import { createDidResolver, jwkResolver, resolveAssertionKey } from '../../core/did/resolver.ts';

// did:jwk spec §3 example 1 (P-256).
const P256 = 'did:jwk:eyJjcnYiOiJQLTI1NiIsImt0eSI6IkVDIiwieCI6ImFjYklRaXVNczNpOF91c3pFakoydHBUdFJNNEVVM3l6OTFQSDZDZEgyVjAiLCJ5IjoiX0tjeUxqOXZXTXB0bm1LdG00NkdxRHo4d2Y3NEk1TEtncmwyR3pIM25TRSJ9';

/** A fake fetch answering `make()` (typed as the resolver's FetchLike; see tests/fetch-json.d.ts). */
const fake = (make: () => unknown) => (async () => make()) as never;

describe('DIDs', () => {
  it('did:jwk §3 example 1: a P-256 key without use gets every verification relationship', async () => {
    const r = await jwkResolver(P256, {} as never, {} as never, {});
    const doc = r.didDocument!;
    expect(doc.verificationMethod?.[0]).toMatchObject({ id: `${P256}#0`, type: 'JsonWebKey2020', controller: P256, publicKeyJwk: { crv: 'P-256', kty: 'EC', x: 'acbIQiuMs3i8_uszEjJ2tpTtRM4EU3yz91PH6CdH2V0', y: '_KcyLj9vWMptnmKtm46GqDz8wf74I5LKgrl2GzH3nSE' } });
    for (const rel of ['assertionMethod', 'authentication', 'capabilityInvocation', 'capabilityDelegation', 'keyAgreement'] as const) expect(doc[rel]).toEqual([`${P256}#0`]);
    expect(await resolveAssertionKey(createDidResolver(), `${P256}#0`, P256)).toMatchObject({ crv: 'P-256' });
  });

  it('did:jwk with use "enc" only allows key agreement; a private key is not a DID', async () => {
    const enc = `did:jwk:${Buffer.from(JSON.stringify({ kty: 'OKP', crv: 'X25519', use: 'enc', x: '3p7bfXt9wbTTW2HC7OQ1Nz-DQ8hbeGdNrfx-FG-IK08' })).toString('base64url')}`;
    const doc = (await jwkResolver(enc, {} as never, {} as never, {})).didDocument!;
    expect(doc.keyAgreement).toHaveLength(1);
    expect(doc.assertionMethod).toBeUndefined();
    const priv = `did:jwk:${Buffer.from(JSON.stringify({ kty: 'EC', crv: 'P-256', x: 'a', y: 'b', d: 'c' })).toString('base64url')}`;
    expect((await jwkResolver(priv, {} as never, {} as never, {})).didResolutionMetadata.error).toBe('invalidDid');
  });

  it('did:web maps to https, and to http only for localhost, with the port percent-encoded', () => {
    expect(didWebFor('http://localhost:3001', 'offices', 'buergerbuero')).toBe('did:web:localhost%3A3001:offices:buergerbuero');
    expect(didWebDocumentUrl('did:web:localhost%3A3001:offices:buergerbuero')).toBe('http://localhost:3001/offices/buergerbuero/did.json');
    expect(didWebDocumentUrl('did:web:registry.leipzig.de')).toBe('https://registry.leipzig.de/.well-known/did.json');
    expect(didWebDocumentUrl('did:web:example.org%3A8443:a')).toBe('https://example.org:8443/a/did.json');
    expect(didWebDocumentUrl('did:web:evil.example/../x')).toBeUndefined();
  });

  it('caches a did:web document no longer than its own max-age and the configured maximum, and never a failure', async () => {
    const did = 'did:web:issuer.example';
    let fetched = 0;
    let cacheControl = 'public, max-age=300';
    let status = 200;
    let now = 1_000_000;
    const fetchDoc = async () => {
      fetched++;
      return new Response(JSON.stringify({ id: did, verificationMethod: [] }), { status, headers: { 'cache-control': cacheControl } });
    };
    const resolver = createDidResolver({ fetch: fetchDoc as never, cacheMaxAgeMs: 60_000, clock: () => now });
    const resolve = async () => (await resolver.resolve(did)).didDocument?.id;
    expect(await resolve()).toBe(did);
    expect(await resolve()).toBe(did);
    expect(fetched).toBe(1);
    now += 60_001; // the configured maximum (60 s) bounds the document's 300 s
    expect(await resolve()).toBe(did);
    expect(fetched).toBe(2);
    cacheControl = 'max-age=5';
    now += 60_001;
    await resolve();
    now += 5_001; // the document's own max-age is shorter: it wins
    await resolve();
    expect(fetched).toBe(4);
    cacheControl = 'no-store';
    now += 10_000;
    await resolve();
    await resolve();
    expect(fetched).toBe(6);
    status = 500; // a failure is not kept: the next call asks again
    cacheControl = 'max-age=60';
    expect(await resolve()).toBeUndefined();
    status = 200;
    expect(await resolve()).toBe(did);
    expect(fetched).toBe(8);
    // Without a maximum, nothing is cached.
    const plain = createDidResolver({ fetch: fetchDoc as never });
    await plain.resolve(did);
    await plain.resolve(did);
    expect(fetched).toBe(10);
  });

  it('reads a did:web document as a stream and cancels it just past maxBytes; a declared Content-Length over it is not read', async () => {
    const did = 'did:web:issuer.example';
    const CHUNK = 16 * 1024;
    let pulled = 0;
    let cancelled = false;
    // 20 MB, produced only as it is read.
    const huge = () =>
      new ReadableStream<Uint8Array>({
        pull(c) {
          if (pulled >= 20_000_000) return c.close();
          pulled += CHUNK;
          c.enqueue(new Uint8Array(CHUNK).fill(0x20));
        },
        cancel() {
          cancelled = true;
        },
      }, { highWaterMark: 0 });
    const streaming = createDidResolver({ fetch: fake(() => new Response(huge(), { status: 200 })), maxBytes: 100_000 });
    expect((await streaming.resolve(did)).didResolutionMetadata).toMatchObject({ error: 'notFound', message: 'DID document too large' });
    expect(cancelled).toBe(true);
    expect(pulled).toBeLessThan(100_000 + 2 * CHUNK);

    pulled = 0;
    cancelled = false;
    const declared = createDidResolver({ fetch: fake(() => new Response(huge(), { status: 200, headers: { 'content-length': '20000000' } })), maxBytes: 100_000 });
    expect((await declared.resolve(did)).didResolutionMetadata).toMatchObject({ error: 'notFound', message: 'DID document too large' });
    expect(pulled).toBeLessThanOrEqual(CHUNK);
  });

  it('a did:web document of exactly maxBytes is read; an error status or a redirect is not', async () => {
    const did = 'did:web:issuer.example';
    const doc = JSON.stringify({ id: did });
    const exact = createDidResolver({ fetch: fake(() => new Response(doc.padEnd(200, ' '))), maxBytes: 200 });
    expect((await exact.resolve(did)).didDocument?.id).toBe(did);
    const oneOver = createDidResolver({ fetch: fake(() => new Response(doc.padEnd(201, ' '))), maxBytes: 200 });
    expect((await oneOver.resolve(did)).didResolutionMetadata.message).toBe('DID document too large');
    const failing = createDidResolver({ fetch: fake(() => new Response('x', { status: 503 })) });
    expect((await failing.resolve(did)).didResolutionMetadata.message).toBe('DID document answered HTTP 503');
    const moved = createDidResolver({ fetch: fake(() => new Response(null, { status: 302, headers: { location: 'https://elsewhere.example/did.json' } })) });
    expect((await moved.resolve(did)).didResolutionMetadata.message).toBe('DID document could not be fetched');
  });
});
