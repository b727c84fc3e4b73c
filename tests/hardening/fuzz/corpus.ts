import { createHmac } from 'node:crypto';
import type { Rng } from './rng.ts';

/**
 * Hostile-input generators. A template is one valid request of a service; each generator turns it
 * into a malformed one of a named class (the classes of issue 9). Every case is plain data, so a
 * failure message can show exactly what was sent.
 */
export interface Template {
  name: string;
  method: 'GET' | 'POST';
  path: string;
  /** Bearer token for admin endpoints. */
  token?: string;
  kind: 'json' | 'form' | 'none';
  body?: Record<string, unknown>;
  /** Top-level fields (or dotted paths) whose value is a compact JWT / SD-JWT. */
  jwtFields?: string[];
  /** Body size limit of the service, to go just over it. */
  limit: number;
}

export interface Case {
  cls: string;
  template: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
}

const b64u = (s: string | Buffer) => Buffer.from(s).toString('base64url');
const clone = <T>(x: T): T => structuredClone(x);

const ODD_STRINGS = [
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfffy',
  '\u202e\u0041\u0042',
  '\ufeff',
  '\uffff\ufffe',
  'e\u0301\u0301\u0301\u0301\u0301\u0301\u0301',
  '\u{1f600}\u{1f4a9}',
  '\u00a0\u2028\u2029',
  '../../etc/passwd',
  '%00%2e%2e%2f',
  '${jndi:ldap://x}',
  '<script>alert(1)</script>',
  "'; DROP TABLE offers; --",
  'Ä'.repeat(3000),
  '\\u0000',
  '𝕏'.repeat(500),
  ' ',
  '\t\r\n',
];

const WRONG_VALUES: unknown[] = [null, true, false, 0, -1, 1.5, 1e308, -0, '', 'x'.repeat(5000), [], {}, [1, 2, 3], { $ne: 1 }, [[[]]], { a: { b: { c: null } } }, '0', 'null', 'true', Number.MAX_SAFE_INTEGER];

const BROKEN_JSON = [
  '{',
  '}',
  '{"a":}',
  '{"a":1,}',
  "{'a':1}",
  '{"a":NaN}',
  '{"a":Infinity}',
  '[1,2',
  '{"a":"\\x41"}',
  '{"a":"\\ud800"',
  '\ufeff{"a":1}',
  'null',
  '"string"',
  '42',
  '[]',
  'true',
  '{"a":1}{"b":2}',
  '{"__proto__":{"admin":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  '',
  '\u0000',
  '{"a":1e999999}',
  '{"a":"' + '\\'.repeat(7) + '"}',
];

const CONTENT_TYPES = [
  'text/plain',
  'application/xml',
  'multipart/form-data; boundary=x',
  'application/json; charset=utf-16',
  'application/jwt',
  '*/*',
  'application/x-www-form-urlencoded',
  'application/json',
  'application/octet-stream',
  'text/html; charset=latin1',
];

/** Field paths of a JSON body: every member at every depth (arrays by index). */
export function fieldPaths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (value === null || typeof value !== 'object') return prefix.length ? [prefix] : [];
  const out: (string | number)[][] = prefix.length ? [prefix] : [];
  for (const [k, v] of Object.entries(value)) out.push(...fieldPaths(v, [...prefix, Array.isArray(value) ? Number(k) : k]));
  return out;
}

function setPath(root: Record<string, unknown>, path: (string | number)[], v: unknown): void {
  let o: any = root;
  for (const k of path.slice(0, -1)) o = o[k];
  o[path[path.length - 1]!] = v;
}
function getPath(root: Record<string, unknown>, path: (string | number)[]): unknown {
  let o: any = root;
  for (const k of path) o = o?.[k];
  return o;
}

function encode(t: Template, body: Record<string, unknown>): { body: string; type: string } {
  if (t.kind === 'form') {
    if (body === null || typeof body !== 'object') return { body: String(body), type: 'application/x-www-form-urlencoded' };
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(body)) {
      if (Array.isArray(v)) for (const x of v) p.append(k, typeof x === 'string' ? x : JSON.stringify(x));
      else if (v !== undefined) p.append(k, typeof v === 'string' ? v : JSON.stringify(v));
    }
    return { body: p.toString(), type: 'application/x-www-form-urlencoded' };
  }
  return { body: JSON.stringify(body), type: 'application/json' };
}

function baseHeaders(t: Template): Record<string, string> {
  return t.token ? { authorization: `Bearer ${t.token}` } : {};
}

function withBody(t: Template, cls: string, body: Record<string, unknown>, extra: Record<string, string> = {}): Case {
  const e = encode(t, body);
  return { cls, template: t.name, method: t.method === 'GET' ? 'POST' : t.method, path: t.path, headers: { ...baseHeaders(t), 'content-type': e.type, ...extra }, body: e.body };
}

function raw(t: Template, cls: string, body: string | Buffer, type: string | null): Case {
  return { cls, template: t.name, method: 'POST', path: t.path, headers: { ...baseHeaders(t), ...(type ? { 'content-type': type } : {}) }, body };
}

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** JWT mutations: tampered parts, alg none, HS256 keyed with a public key. */
export function tamperJwt(rng: Rng, jwt: string): string {
  const [sdPart, ...rest] = jwt.split('~');
  const parts = sdPart!.split('.');
  const tail = rest.length ? '~' + rest.join('~') : '';
  // Flips the top bit of one base64url character's six: always a bit of data, never one of the
  // padding bits of a last character, which decoders ignore (A <-> B there left the JWT valid).
  const flip = (s: string) => {
    if (!s) return 'A';
    const i = rng.int(s.length);
    const v = B64URL.indexOf(s[i]!);
    const c = v < 0 ? 'A' : B64URL[v ^ 32]!;
    return s.slice(0, i) + c + s.slice(i + 1);
  };
  switch (rng.int(10)) {
    case 0:
      return [flip(parts[0]!), parts[1], parts[2]].join('.') + tail;
    case 1:
      return [parts[0], flip(parts[1]!), parts[2]].join('.') + tail;
    case 2:
      return [parts[0], parts[1], flip(parts[2] ?? '')].join('.') + tail;
    case 3:
      return [parts[0], parts[1]].join('.') + tail;
    case 4:
      return [parts[1], parts[0], parts[2]].join('.') + tail;
    case 5:
      return [...parts, parts[2]].join('.') + tail;
    case 6:
      return [parts[0], parts[1], (parts[2] ?? '') + '=='].join('.') + tail;
    case 7:
      return [parts[0], parts[1] + '*$', parts[2]].join('.') + tail;
    case 8:
      return [parts[0], b64u(JSON.stringify({ ...safeJson(parts[1]!), exp: 1 })), parts[2]].join('.') + tail;
    default:
      return '.' + tail;
  }
}

function safeJson(part: string): Record<string, unknown> {
  try {
    const v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return v && typeof v === 'object' ? v : {};
  } catch {
    return {};
  }
}

export function algNone(jwt: string): string {
  const [sdPart, ...rest] = jwt.split('~');
  const [h, p] = sdPart!.split('.');
  const header = { ...safeJson(h!), alg: 'none' };
  return `${b64u(JSON.stringify(header))}.${p}.` + (rest.length ? '~' + rest.join('~') : '');
}

/** HS256 "signed" with the issuer's public key as the HMAC secret (the classic key-confusion attack). */
export function hs256WithPublicKey(jwt: string, publicKeyMaterial: string): string {
  const [sdPart, ...rest] = jwt.split('~');
  const [h, p] = sdPart!.split('.');
  const header = b64u(JSON.stringify({ ...safeJson(h!), alg: 'HS256' }));
  const sig = createHmac('sha256', publicKeyMaterial).update(`${header}.${p}`).digest('base64url');
  return `${header}.${p}.${sig}` + (rest.length ? '~' + rest.join('~') : '');
}

/** SD-JWT mutations: duplicate, forged or altered disclosures, KB-JWT removed or doubled. */
export function tamperSdJwt(rng: Rng, sdJwt: string): string {
  const parts = sdJwt.split('~');
  const jwt = parts[0]!;
  const kb = parts[parts.length - 1]!;
  const ds = parts.slice(1, -1).filter(Boolean);
  const forged = b64u(JSON.stringify([b64u(rng.bytes(16)), 'vorname', 'Mallory']));
  switch (rng.int(7)) {
    case 0:
      return [jwt, ...ds, ds[0] ?? forged, kb].join('~');
    case 1:
      return [jwt, ...ds, forged, kb].join('~');
    case 2:
      return [jwt, ...ds.map((d, i) => (i === 0 ? b64u(JSON.stringify([...safeArr(d).slice(0, 2), 'Mallory'])) : d)), kb].join('~');
    case 3:
      return [jwt, ...ds, ''].join('~');
    case 4:
      return [jwt, ...ds, kb, kb].join('~');
    case 5:
      return [jwt, ...ds, 'not-base64!!', kb].join('~');
    default:
      return [jwt, ...ds, b64u('["only-two","x"]'), kb].join('~');
  }
}
function safeArr(d: string): unknown[] {
  try {
    const v = JSON.parse(Buffer.from(d, 'base64url').toString('utf8'));
    return Array.isArray(v) ? v : [];
  } catch {
    return [];
  }
}

const encodable = (x: string) => {
  try {
    encodeURIComponent(x);
    return true;
  } catch {
    return false;
  }
};

function nested(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array' ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

export const CLASSES = [
  'invalid-json',
  'wrong-content-type',
  'over-limit',
  'deep-nesting',
  'odd-unicode',
  'alg-none',
  'hs256-public-key',
  'tampered-jwt',
  'duplicate-disclosures',
  'huge-array',
  'wrong-type',
  'missing-field',
  'prototype-keys',
  'odd-path',
  'wrong-method',
] as const;

/** One malformed request of class `cls` derived from template `t` (null when the class does not apply). */
export function generate(rng: Rng, t: Template, cls: (typeof CLASSES)[number], publicKeyMaterial: string): Case | null {
  if (t.method === 'GET') return generateGet(rng, t, cls);
  const body = clone(t.body ?? {});
  const paths = fieldPaths(body);
  const jwtPaths = (t.jwtFields ?? []).map((f) => f.split('.'));
  switch (cls) {
    case 'invalid-json': {
      if (t.kind === 'form') return raw(t, cls, rng.pick(['a=%ZZ', '%', 'a=1&&&=', '=' + 'x'.repeat(10), 'a=%E0%A4%A', Buffer.from([0xff, 0xfe, 0x00]).toString('latin1')]), 'application/x-www-form-urlencoded');
      const s = JSON.stringify(body);
      const pick = rng.int(3);
      if (pick === 0 && s.length > 2) return raw(t, cls, s.slice(0, 1 + rng.int(s.length - 2)), 'application/json');
      if (pick === 1) return raw(t, cls, Buffer.concat([Buffer.from(s.slice(0, 1)), rng.bytes(1 + rng.int(8)), Buffer.from(s.slice(1))]), 'application/json');
      return raw(t, cls, rng.pick(BROKEN_JSON), 'application/json');
    }
    case 'wrong-content-type': {
      const e = encode(t, body);
      const type = rng.pick(CONTENT_TYPES.filter((c) => c !== e.type));
      return raw(t, cls, type.startsWith('application/json') && t.kind === 'form' ? e.body : type === 'application/x-www-form-urlencoded' ? JSON.stringify(body) : e.body, rng.int(8) === 0 ? null : type);
    }
    case 'over-limit': {
      const size = t.limit + 1 + rng.int(t.limit * 2);
      if (t.kind === 'form') return raw(t, cls, 'x=' + 'a'.repeat(size), 'application/x-www-form-urlencoded');
      return raw(t, cls, JSON.stringify({ ...body, pad: 'a'.repeat(size) }), 'application/json');
    }
    case 'deep-nesting': {
      const depth = rng.pick([64, 500, 3000, Math.min(20_000, Math.floor(t.limit / 6))]);
      const n = nested(depth, rng.pick(['array', 'object'] as const));
      if (t.kind === 'form') {
        const keys = Object.keys(body);
        return raw(t, cls, new URLSearchParams({ ...(body as Record<string, string>), [keys.length ? rng.pick(keys) : 'x']: n }).toString(), 'application/x-www-form-urlencoded');
      }
      if (paths.length === 0) return raw(t, cls, n, 'application/json');
      const path = rng.pick(paths);
      const s = JSON.stringify(body, (k, v) => (k === String(path[path.length - 1]) && getPath(body, path) === v ? '\u0000MARK' : v));
      return raw(t, cls, s.replace('"\\u0000MARK"', n), 'application/json');
    }
    case 'odd-unicode': {
      const odd = rng.pick(ODD_STRINGS);
      if (rng.int(4) === 0) return { ...withBody(t, cls, body), path: t.path.replace(/[^/]+$/, (encodable(odd) ? encodeURIComponent(odd) : '%ED%A0%80').slice(0, 2000) || '%00') };
      const strPaths = paths.filter((p) => typeof getPath(body, p) === 'string');
      if (strPaths.length === 0 || rng.int(3) === 0) return withBody(t, cls, { ...body, [odd]: odd });
      setPath(body, rng.pick(strPaths), odd);
      return withBody(t, cls, body);
    }
    case 'alg-none':
    case 'hs256-public-key':
    case 'tampered-jwt': {
      if (jwtPaths.length === 0) return null;
      const p = rng.pick(jwtPaths);
      const v = getPath(body, p);
      const jwt = typeof v === 'string' ? v : Array.isArray(v) && typeof v[0] === 'string' ? v[0] : null;
      if (!jwt) return null;
      const m = cls === 'alg-none' ? algNone(jwt) : cls === 'hs256-public-key' ? hs256WithPublicKey(jwt, publicKeyMaterial) : tamperJwt(rng, jwt);
      setPath(body, p, Array.isArray(v) ? [m] : m);
      return withBody(t, cls, body);
    }
    case 'duplicate-disclosures': {
      const sd = jwtPaths.filter((p) => String(getPath(body, p)).includes('~'));
      if (sd.length === 0) return null;
      const p = rng.pick(sd);
      setPath(body, p, tamperSdJwt(rng, String(getPath(body, p))));
      return withBody(t, cls, body);
    }
    case 'huge-array': {
      const n = rng.pick([1000, 10_000, Math.floor(t.limit / 3)]);
      const arr = rng.int(2) ? new Array(n).fill(0) : new Array(Math.min(n, 2000)).fill('x'.repeat(8));
      if (paths.length === 0 || t.kind === 'form') {
        if (t.kind === 'form') return raw(t, cls, Array.from({ length: Math.min(n, 3000) }, (_, i) => `${Object.keys(body)[0] ?? 'a'}=${i}`).join('&'), 'application/x-www-form-urlencoded');
        return raw(t, cls, JSON.stringify(arr), 'application/json');
      }
      setPath(body, rng.pick(paths), arr);
      return withBody(t, cls, body);
    }
    case 'wrong-type': {
      if (paths.length === 0) return withBody(t, cls, rng.pick(WRONG_VALUES) as never);
      setPath(body, rng.pick(paths), clone(rng.pick(WRONG_VALUES)));
      return withBody(t, cls, body);
    }
    case 'missing-field': {
      if (paths.length === 0) return null;
      const p = rng.pick(paths);
      let o: any = body;
      for (const k of p.slice(0, -1)) o = o[k];
      if (Array.isArray(o)) o.splice(Number(p[p.length - 1]), 1);
      else delete o[p[p.length - 1]!];
      return withBody(t, cls, body);
    }
    case 'prototype-keys': {
      const s = encode(t, body).body;
      if (t.kind === 'form') return raw(t, cls, s + '&__proto__[admin]=1&constructor[prototype][x]=1', 'application/x-www-form-urlencoded');
      return raw(t, cls, s.replace(/^\{/, '{"__proto__":{"isAdmin":true},"constructor":{"prototype":{"x":1}},'), 'application/json');
    }
    case 'odd-path': {
      const seg = rng.pick(['..%2f..%2f', '%00', 'x'.repeat(4000), '%F0%9F%92%A9', '%', '%ZZ', '.', '..', encodeURIComponent('\u202e')]);
      const parts = t.path.split('/');
      parts[1 + rng.int(parts.length - 1)] = seg;
      return { ...withBody(t, cls, body), path: parts.join('/') + (rng.int(2) ? '?' + 'q='.repeat(1) + 'a'.repeat(rng.int(9000)) : '?a=1&a=2&a[]=3') };
    }
    case 'wrong-method': {
      return { cls, template: t.name, method: rng.pick(['PUT', 'PATCH', 'DELETE', 'OPTIONS', t.method === 'POST' ? 'GET' : 'POST']), path: t.path, headers: baseHeaders(t) };
    }
  }
}

/** GET endpoints have no body: odd paths and queries, odd Unicode in the last segment, wrong methods. */
function generateGet(rng: Rng, t: Template, cls: (typeof CLASSES)[number]): Case | null {
  const headers = baseHeaders(t);
  const parts = t.path.split('/');
  switch (cls) {
    case 'odd-path': {
      parts[1 + rng.int(parts.length - 1)] = rng.pick(['..%2f..%2f', '%00', 'x'.repeat(4000), '%F0%9F%92%A9', '%', '%ZZ', '.', '..']);
      return { cls, template: t.name, method: 'GET', path: parts.join('/'), headers };
    }
    case 'odd-unicode': {
      const odd = encodeURIComponent(rng.pick(ODD_STRINGS.filter(encodable)));
      if (rng.int(2)) parts[parts.length - 1] = odd || '%00';
      return { cls, template: t.name, method: 'GET', path: parts.join('/') + (rng.int(2) ? `?entity_id=${odd}&action=${odd}&lang=${odd}` : ''), headers };
    }
    case 'wrong-method':
      return { cls, template: t.name, method: rng.pick(['PUT', 'PATCH', 'DELETE', 'POST']), path: t.path, headers: { ...headers, 'content-type': 'application/json' }, body: '{}' };
    case 'huge-array':
      return { cls, template: t.name, method: 'GET', path: t.path + '?' + Array.from({ length: 500 }, (_, i) => `a=${i}`).join('&'), headers };
    default:
      return null;
  }
}
