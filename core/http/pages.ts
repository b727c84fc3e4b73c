// The clerk pages (issuer desk, verifier counter): one CSP and one way to serve their assets.
import type { Response, Router } from 'express';

// Scripts, styles and fetches from this origin only; blob: images for the QR codes.
const CLERK_PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** Sends a clerk page: its own CSP, never cached (it carries per-office state). */
export function sendClerkPage(res: Response, html: string): void {
  res.setHeader('Content-Security-Policy', CLERK_PAGE_CSP);
  res.setHeader('Cache-Control', 'no-store');
  res.type('html').send(html);
}

/** Serves a page's script and stylesheet at /static/<name>.js and /static/<name>.css. */
export function clerkAssets(r: Router, name: string, js: string, css: string): void {
  const asset = (path: string, type: string, body: string) =>
    r.get(path, (_req, res) => {
      res.setHeader('Cache-Control', 'public, max-age=300');
      res.type(type).send(body);
    });
  asset(`/static/${name}.js`, 'application/javascript', js);
  asset(`/static/${name}.css`, 'text/css', css);
}
