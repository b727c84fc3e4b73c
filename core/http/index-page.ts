// `GET /` of a service: a small page saying what this is and where to go, in German and English.
import { Router } from 'express';

export interface IndexLink {
  href: string;
  de: string;
  en: string;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

// No script, no style sheet, nothing from elsewhere.
const INDEX_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/** One route, `GET /`: the service's name and purpose and its links (pages, metadata, API description). */
export function indexRoute(title: { de: string; en: string }, about: { de: string; en: string }, links: () => IndexLink[]): Router {
  const r = Router();
  r.get('/', (_req, res) => {
    const list = (lang: 'de' | 'en') => `<ul>${links().map((l) => `<li><a href="${esc(l.href)}">${esc(l[lang])}</a></li>`).join('')}</ul>`;
    res.setHeader('Content-Security-Policy', INDEX_CSP);
    res.setHeader('Cache-Control', 'no-store');
    res.type('html').send(`<!doctype html>
<html lang="de">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(title.de)} / ${esc(title.en)} – ID-Ideal</title>
<style>body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#111}a{color:#00458a}</style></head>
<body><main>
<h1>${esc(title.de)}</h1>
<p>${esc(about.de)}</p>
${list('de')}
<section lang="en" aria-labelledby="en-title"><h2 id="en-title">${esc(title.en)}</h2>
<p>${esc(about.en)}</p>
${list('en')}</section>
</main></body></html>`);
  });
  return r;
}
