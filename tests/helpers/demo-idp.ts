import { spawnService, type ChildService } from './spawn-service.ts';

/**
 * The demo identity provider (core/demo/idp/main.ts) as its own process, and a citizen's browser
 * over plain HTTP: redirects followed by hand, cookies kept per origin, the IdP's login form filled in.
 */
export async function startDemoIdp(opts: { port: number; issuerUrl: string; keyEncryptionSecret: string }): Promise<ChildService & { url: string }> {
  const url = `http://localhost:${opts.port}`;
  const child = await spawnService('core/demo/idp/main.ts', { IDP_PORT: String(opts.port), IDP_PUBLIC_URL: url, ISSUER_PUBLIC_URL: opts.issuerUrl, KEY_ENCRYPTION_SECRET: opts.keyEncryptionSecret }, url);
  return Object.assign(child, { url });
}

export interface Hop {
  url: string;
  status: number;
  location?: string;
  body: string;
}

export class TestBrowser {
  private readonly jar = new Map<string, Map<string, string>>();

  private cookies(url: URL): string {
    return [...(this.jar.get(url.origin) ?? new Map()).entries()].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private keep(url: URL, res: Response): void {
    const jar = this.jar.get(url.origin) ?? new Map<string, string>();
    this.jar.set(url.origin, jar);
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const i = pair!.indexOf('=');
      const name = pair!.slice(0, i).trim();
      const value = pair!.slice(i + 1).trim();
      const gone = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a) || (/^\s*expires=/i.test(a) && Date.parse(a.split('=')[1]!) < Date.now()));
      if (gone || value === '') jar.delete(name);
      else jar.set(name, value);
    }
  }

  /** One request, no redirect followed. */
  async request(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<Hop> {
    const u = new URL(url);
    const headers: Record<string, string> = { accept: 'text/html' };
    const cookie = this.cookies(u);
    if (cookie) headers.cookie = cookie;
    if (init.form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(u, { method: init.method ?? (init.form ? 'POST' : 'GET'), headers, redirect: 'manual', ...(init.form ? { body: new URLSearchParams(init.form).toString() } : {}) });
    this.keep(u, res);
    const location = res.headers.get('location');
    return { url, status: res.status, body: await res.text(), ...(location ? { location: new URL(location, u).href } : {}) };
  }

  /** Follows redirects until a page answers, or until a redirect leaves for `stopAt` (the wallet's redirect_uri), which is not fetched. */
  async follow(url: string, stopAt: string, init: { form?: Record<string, string> } = {}, hops: Hop[] = []): Promise<{ final: Hop; hops: Hop[] }> {
    let hop = await this.request(url, init);
    hops.push(hop);
    for (let i = 0; i < 20 && hop.location && !hop.location.startsWith(stopAt); i++) {
      hop = await this.request(hop.location);
      hops.push(hop);
    }
    return { final: hop, hops };
  }

  /**
   * The whole login: from the wallet's authorization URL through the issuer to the IdP's login page,
   * the form submitted, and back until the redirect to the wallet. Returns that redirect's URL.
   */
  async login(authorizationUrl: string, redirectUri: string, username: string, password: string): Promise<{ walletRedirect: URL; hops: Hop[] }> {
    const first = await this.follow(authorizationUrl, redirectUri);
    const action = /<form method="post" action="([^"]+)"/.exec(first.final.body)?.[1];
    if (first.final.status !== 200 || !action) throw new Error(`no login form: ${first.final.status} ${first.final.url} ${first.final.body.slice(0, 300)}`);
    const second = await this.follow(new URL(action.replace(/&amp;/g, '&'), first.final.url).href, redirectUri, { form: { username, password } }, first.hops);
    if (!second.final.location?.startsWith(redirectUri)) throw new Error(`no redirect to the wallet: ${second.final.status} ${second.final.url} ${second.final.body.slice(0, 300)}`);
    return { walletRedirect: new URL(second.final.location), hops: second.hops };
  }
}
