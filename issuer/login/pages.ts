import type { Response } from 'express';
import type { I18nText } from '../../core/trust/model.ts';

/** Citizen-facing pages of the self-service login: static HTML, no script, nothing from the request echoed. */
const CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function page(title: I18nText, body: { de: string; en: string }): string {
  return `<!doctype html>
<html lang="de"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(title.de)} / ${esc(title.en)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;line-height:1.5}section+section{border-top:1px solid #ccc;margin-top:1.5rem}a{word-break:break-all}</style></head>
<body><section lang="de"><h1>${esc(title.de)}</h1>${body.de}</section><section lang="en"><h1>${esc(title.en)}</h1>${body.en}</section></body></html>`;
}

/** A login that cannot go on (request_uri used or expired, another browser, ...): the status and a text for the citizen. */
export function sendLoginError(res: Response, status: number, message: I18nText): void {
  res.status(status);
  res.setHeader('Content-Security-Policy', CSP);
  res.setHeader('Cache-Control', 'no-store');
  res.type('html').send(page({ de: 'Anmeldung nicht möglich', en: 'Login not possible' }, { de: `<p>${esc(message.de)}</p>`, en: `<p>${esc(message.en)}</p>` }));
}

/** The office's self-service page: per configuration, the credential offer a wallet opens (OID4VCI 1.0 §4.1). */
export function sendSelfServicePage(res: Response, office: I18nText, offers: { name: I18nText; offer: string }[]): void {
  res.setHeader('Content-Security-Policy', CSP);
  res.setHeader('Cache-Control', 'no-store');
  const list = (k: 'de' | 'en') => `<ul>${offers.map((o) => `<li><a href="${esc(o.offer)}">${esc(o.name[k])}</a></li>`).join('')}</ul>`;
  res.type('html').send(
    page(
      { de: `${office.de}: Nachweis online abrufen`, en: `${office.en}: get a credential online` },
      {
        de: `<p>Öffnen Sie den Link mit Ihrer Wallet. Sie melden sich dann mit Ihrem Bürgerkonto der Stadt an; der Nachweis wird aus den Angaben Ihres Kontos ausgestellt.</p>${list('de')}`,
        en: `<p>Open the link with your wallet. You then log in with your city account; the credential is issued from the details of your account.</p>${list('en')}`,
      },
    ),
  );
}

export const MESSAGES = {
  requestUnknown: { de: 'Diese Anmeldung ist abgelaufen oder wurde schon benutzt. Bitte beginnen Sie in Ihrer Wallet neu.', en: 'This login has expired or was already used. Please start again in your wallet.' },
  clientMismatch: { de: 'Die Anfrage passt nicht zu der Wallet, die sie begonnen hat.', en: 'The request does not match the wallet that started it.' },
  otherBrowser: { de: 'Bitte schließen Sie die Anmeldung in demselben Browser ab, in dem Sie sie begonnen haben.', en: 'Please finish the login in the same browser in which you started it.' },
  idpUnavailable: { de: 'Das Bürgerkonto der Stadt ist gerade nicht erreichbar. Bitte versuchen Sie es später noch einmal.', en: 'The city account service cannot be reached right now. Please try again later.' },
  noSelfService: { de: 'Dieses Amt bietet keinen Online-Abruf an.', en: 'This office does not offer online self-service.' },
  cancelled: { de: 'Die Anmeldung beim Bürgerkonto wurde abgebrochen.', en: 'The login at the city account was cancelled.' },
  loginFailed: { de: 'Die Anmeldung beim Bürgerkonto konnte nicht geprüft werden.', en: 'The login at the city account could not be verified.' },
} satisfies Record<string, I18nText>;
