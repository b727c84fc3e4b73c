import { createServer, type Server } from 'node:http';
import { createInterface } from 'node:readline/promises';
import { resolve } from 'node:path';
import { checkPublicUrl } from '../core/config/env.ts';
import { WalletLockedError } from './core/store.ts';
import { preparePresentation, sendPresentation, declinePresentation, type PresentationPlan } from './core/present.ts';
import { collectPending, receive, type ReceiveResult } from './core/receive.ts';
import { finishSelfService, FLOW_TTL_MS, startSelfService, stateOf, type SelfServiceFlow } from './core/self-service.ts';
import { openWallet, WalletError, type WalletContext } from './core/wallet.ts';

/**
 * The wallet on the command line (docs/contract.md, Wallet demo), on the same core as the web wallet:
 *   npm run wallet -- receive '<openid-credential-offer://…>' --tx-code <code>
 *   npm run wallet -- present '<openid4vp://…>' [--yes]
 *   npm run wallet -- list
 *   npm run wallet -- self-service '<office URL | openid-credential-offer://…>' [--paste]
 * Exit codes: 0 done, 1 refused or failed (reason printed), 2 usage or locked wallet.
 */
const USAGE = `Verwendung / usage:
  npm run wallet -- receive '<openid-credential-offer://…>' --tx-code <code>
  npm run wallet -- present '<openid4vp://…>' [--yes | --no]   (ohne Terminal Pflicht / required without a terminal)
  npm run wallet -- list
  npm run wallet -- self-service '<Adresse des Amts / office URL | openid-credential-offer://…>' [--configuration <id>] [--paste]
      Online beantragen: Anmeldung im Browser, Rückkehr an 127.0.0.1 (oder Adresse einfügen: --paste)
      Apply online: log in in the browser, back to 127.0.0.1 (or paste the address: --paste)
Umgebung / environment: WALLET_DIR (./.data/wallet), WALLET_PASSPHRASE, REGISTRY_PUBLIC_URL`;

const out = (s: string) => process.stdout.write(s + '\n');
const err = (s: string) => process.stderr.write(s + '\n');

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i >= 0) return args[i + 1];
  const eq = args.find((a) => a.startsWith(`${name}=`));
  return eq?.slice(name.length + 1);
}

async function passphrase(): Promise<string> {
  const env = process.env.WALLET_PASSPHRASE;
  if (env) return env;
  if (!process.stdin.isTTY) {
    err('WALLET_PASSPHRASE ist nicht gesetzt und es gibt kein Terminal für die Eingabe. / WALLET_PASSPHRASE is not set and no terminal is attached.');
    process.exit(2);
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  // Hide what is typed.
  const write = (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput.bind(rl);
  (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s: string) => write(s.startsWith('Passphrase') ? s : '');
  const p = await rl.question('Passphrase der Wallet / wallet passphrase: ');
  rl.close();
  process.stderr.write('\n');
  return p;
}

function describePlan(plan: PresentationPlan): void {
  out(`Anfrage von / request from: ${plan.verifierName ? `${plan.verifierName.de} (${plan.verifierName.en})` : plan.verifier}`);
  if (plan.purpose) out(`Zweck / purpose: ${plan.purpose.de} / ${plan.purpose.en}`);
  out(plan.registered ? '✓ Im Vertrauensregister eingetragen für diese Angaben. / Registered in the trust registry for these claims.' : '⚠ Achtung / warning:');
  for (const w of plan.warnings) out(`  ⚠ ${w}`);
  for (const q of plan.queries) {
    const label = `${q.type}${q.required ? '' : ' (freiwillig / optional)'}`;
    if (q.candidates.length === 0) out(`  – ${label}: nicht in der Wallet / not in the wallet`);
    else out(`  – ${label}: ${q.claims.map((p) => p.filter((s) => s !== 'credentialSubject').join('.')).join(', ')}`);
  }
}

async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  const a = (await rl.question(`${question} [j/N] `)).trim().toLowerCase();
  rl.close();
  return a === 'j' || a === 'ja' || a === 'y' || a === 'yes';
}

async function main(): Promise<number> {
  const [command, ...args] = process.argv.slice(2);
  if (!command || !['receive', 'present', 'list', 'self-service'].includes(command)) {
    err(USAGE);
    return 2;
  }
  const registryUrl = checkPublicUrl('REGISTRY_PUBLIC_URL', process.env.REGISTRY_PUBLIC_URL ?? 'http://localhost:3003', false);
  let ctx: WalletContext;
  try {
    ctx = await openWallet({ dir: resolve(process.env.WALLET_DIR ?? './.data/wallet'), passphrase: await passphrase(), registryUrl, allowLocalHttp: process.env.NODE_ENV !== 'production' });
  } catch (e) {
    if (e instanceof WalletLockedError) {
      err(e.message);
      return 2;
    }
    throw e;
  }

  if (command === 'list') {
    // Deferred issuance (OID4VCI 1.0 §9): collect what the offices have approved since.
    if ((ctx.store.snapshot.pending ?? []).length > 0) {
      const p = await collectPending(ctx);
      if (p.received.length) out(`✓ ${p.received.length} ausstehende(r) Nachweis(e) abgeholt. / Collected ${p.received.length} pending credential(s).`);
      if (p.waiting) out(`${p.waiting} Nachweis(e) warten noch auf Freigabe. / ${p.waiting} still awaiting approval.`);
    }
    const { credentials, history } = ctx.store.snapshot;
    const groups = new Map<string, typeof credentials>();
    for (const c of credentials) groups.set(c.group, [...(groups.get(c.group) ?? []), c]);
    out(`${groups.size} Nachweis(e) / credential(s):`);
    for (const copies of groups.values()) {
      const c = copies[0]!;
      out(`- ${c.type} · ${c.issuerName?.de ?? c.issuer} · ${copies.length} Kopie(n)/copies · erhalten/received ${c.receivedAt}${c.expiresAt ? ` · gültig bis/valid until ${c.expiresAt}` : ''}`);
    }
    out(`${history.length} Vorlage(n) im Verlauf / presentation(s) in the history.`);
    return 0;
  }

  const uri = args.find((a) => !a.startsWith('--') && !['--tx-code', '--configuration'].includes(args[args.indexOf(a) - 1]!));
  if (!uri) {
    err(USAGE);
    return 2;
  }
  try {
    if (command === 'self-service') return printReceived(await selfService(ctx, uri, args));
    if (command === 'receive') {
      let r: ReceiveResult;
      try {
        r = await receive(ctx, uri, flag(args, '--tx-code'), (m) => out(m));
      } catch (e) {
        // An offer with the authorization_code grant (OID4VCI 1.0 §4.1.1): the office wants a login.
        if (!(e instanceof WalletError && e.code === 'unsupported_offer')) throw e;
        return printReceived(await selfService(ctx, uri, args));
      }
      for (const w of r.warnings) out(`⚠ ${w}`);
      if (r.deferred) out('Das Amt muss den Nachweis noch freigeben; er wird später abgeholt. / The office has yet to approve; the credential will be collected later.');
      if (r.credentials.length) out(`✓ ${r.credentials[0]!.type} von/from ${r.credentials[0]!.issuerName?.de ?? r.credentials[0]!.issuer} gespeichert (${r.credentials.length} Kopien). / Stored (${r.credentials.length} copies).`);
      return 0;
    }
    const plan = await preparePresentation(ctx, uri);
    describePlan(plan);
    if (!plan.canSatisfy) {
      err('Die Wallet enthält nicht die angefragten Nachweise; es wird nichts gesendet. / The wallet does not hold what is asked for; nothing is sent.');
      return 1;
    }
    const yes = args.includes('--yes');
    if (!plan.registered && !args.includes('--allow-unregistered')) {
      err('Nicht gesendet: die Stelle fragt mehr ab oder ist nicht eingetragen. / Not sent: the organisation asks for more than registered or is not registered.');
      await declinePresentation(ctx, plan);
      return 1;
    }
    // No terminal to ask and no decision given (--yes or --no): do nothing at all, so the counter's
    // request stays open for a decision made by a person, not by a script that forgot the flag.
    if (!yes && !args.includes('--no') && !process.stdin.isTTY) {
      err('Keine Entscheidung: ohne Terminal braucht „present“ --yes (teilen) oder --no (ablehnen). Nichts wurde gesendet; die Anfrage bleibt offen. / No decision: without a terminal, "present" needs --yes (share) or --no (decline). Nothing was sent; the request stays open.');
      return 2;
    }
    if (!yes && (args.includes('--no') || !(await confirm('Diese Angaben teilen? / Share these claims?')))) {
      await declinePresentation(ctx, plan);
      out('Abgelehnt; nichts wurde geteilt. / Declined; nothing was shared.');
      return 1;
    }
    await sendPresentation(ctx, plan, {}, { includeOptional: true });
    out('✓ Geteilt. / Shared.');
    return 0;
  } catch (e) {
    if (e instanceof WalletError) {
      err(`✗ ${e.message}`);
      return 1;
    }
    err(`✗ Unerwarteter Fehler / unexpected error: ${(e as Error).message.split('\n')[0]}`);
    return 1;
  }
}

function printReceived(r: ReceiveResult): number {
  for (const w of r.warnings) out(`⚠ ${w}`);
  const c = r.credentials[0];
  if (c) out(`✓ ${c.type} von/from ${c.issuerName?.de ?? c.issuer} gespeichert (${r.credentials.length} Kopien). / Stored (${r.credentials.length} copies).`);
  return c ? 0 : 1;
}

const CALLBACK_PATH = '/callback';
const DONE_PAGE = `<!doctype html><html lang="de"><head><meta charset="utf-8"><title>ID-Ideal Wallet</title></head><body><main><h1>Zurück zur Wallet</h1><p>Die Anmeldung ist bei der Wallet angekommen. Sie können dieses Fenster schließen; das Ergebnis steht im Terminal.</p><h2 lang="en">Back to the wallet</h2><p lang="en">The login has reached the wallet. You can close this window; the result is shown in the terminal.</p></main></body></html>`;

/**
 * Online self-service on the command line (core/self-service.ts). The office sends the browser back
 * to a loopback redirect URI (RFC 8252 §7.3: http://127.0.0.1 with a port the wallet picks, any path):
 * by default the CLI listens there for exactly one answer carrying its `state`; with --paste nothing
 * listens, the browser shows that it cannot connect, and the citizen pastes the address from the
 * address bar. Either way the answer is checked (iss, state) before anything in it is used.
 */
async function selfService(ctx: WalletContext, target: string, args: string[]): Promise<ReceiveResult> {
  const paste = args.includes('--paste');
  const server: Server = createServer();
  await new Promise<void>((ok, fail) => server.once('error', fail).listen(0, '127.0.0.1', ok));
  const port = (server.address() as { port: number }).port;
  const redirectUri = `http://127.0.0.1:${port}${CALLBACK_PATH}`;
  if (paste) await new Promise((ok) => server.close(ok));
  let flow: SelfServiceFlow;
  try {
    const isOffer = /^openid-credential-offer:\/\//.test(target) || /[?&]credential_offer(_uri)?=/.test(target);
    out('Das Amt wird gefragt … / Asking the office …');
    flow = await startSelfService(ctx, { ...(isOffer ? { offer: target } : { office: target }), redirectUri, ...(flag(args, '--configuration') ? { configurationId: flag(args, '--configuration')! } : {}) });
  } catch (e) {
    if (!paste) server.close();
    throw e;
  }
  out(`Bitte im Browser öffnen und beim Bürgerkonto anmelden / please open in the browser and log in with the city account (${flow.officeName?.de ?? flow.credentialIssuer}):`);
  out(flow.authorizationUrl);
  let answer: string;
  if (paste) {
    out('Danach die Adresse aus der Adresszeile des Browsers hier einfügen / then paste the address from the browser’s address bar here:');
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: false });
    const line = await new Promise<string | undefined>((ok) => {
      rl.once('line', ok);
      rl.once('close', () => ok(undefined));
      setTimeout(() => ok(undefined), FLOW_TTL_MS).unref();
    });
    rl.close();
    if (!line) throw new WalletError('flow_expired', 'Keine Adresse eingegeben. / No address entered.');
    answer = line;
  } else {
    out(`Die Wallet wartet auf die Rückkehr an / the wallet waits for the return to ${redirectUri} …`);
    answer = await new Promise<string>((ok, fail) => {
      const timer = setTimeout(() => {
        server.close();
        fail(new WalletError('flow_expired', 'Die Anmeldung hat zu lange gedauert. Bitte beginnen Sie neu. / The login took too long. Please start again.'));
      }, FLOW_TTL_MS).unref();
      server.on('request', (req, res) => {
        const url = `http://127.0.0.1:${port}${req.url ?? '/'}`;
        // Only the answer for this flow ends the wait; anything else (favicon, a stray request) is 404.
        if (req.method !== 'GET' || new URL(url).pathname !== CALLBACK_PATH || stateOf(url) !== flow.state) {
          res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Nicht gefunden / not found');
          return;
        }
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'referrer-policy': 'no-referrer', 'content-security-policy': "default-src 'none'" }).end(DONE_PAGE);
        clearTimeout(timer);
        server.close();
        ok(url);
      });
    });
  }
  return finishSelfService(ctx, flow, answer, (m) => out(m));
}

process.exitCode = await main();
