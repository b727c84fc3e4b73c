import { DEMO_ACCOUNTS } from './accounts.ts';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The demo IdP's login page (German and English), marked as a demo, listing the fictional accounts. */
export function loginPage(uid: string, failed: boolean): string {
  const accounts = DEMO_ACCOUNTS.map((a) => `<li><code>${esc(a.username)}</code> / <code>${esc(a.password)}</code>: <span lang="de">${esc(a.label.de)}</span> · <span lang="en">${esc(a.label.en)}</span></li>`).join('');
  return `<!doctype html>
<html lang="de"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Bürgerkonto Leipzig (Demo) / City account Leipzig (demo)</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;line-height:1.5}.demo{background:#fff3cd;border:1px solid #e0c060;padding:.5rem 1rem}label{display:block;margin-top:1rem}input{font-size:1rem;padding:.4rem;width:100%;box-sizing:border-box}button{margin-top:1rem;font-size:1rem;padding:.5rem 1.5rem}.error{color:#a00}</style></head>
<body>
<p class="demo"><strong>DEMO</strong> – <span lang="de">Dies ist ein Demo-Anmeldedienst mit erfundenen Personen. Geben Sie keine echten Daten ein.</span> <span lang="en">This is a demo login service with fictional people. Do not enter real data.</span></p>
<h1>Bürgerkonto Leipzig <span lang="en">/ City account Leipzig</span></h1>
${failed ? '<p class="error" role="alert"><span lang="de">Benutzername oder Passwort ist falsch.</span> / <span lang="en">Username or password is wrong.</span></p>' : ''}
<form method="post" action="/interaction/${esc(uid)}/login">
<label for="username">Benutzername / Username</label><input id="username" name="username" autocomplete="username" required maxlength="100">
<label for="password">Passwort / Password</label><input id="password" name="password" type="password" autocomplete="current-password" required maxlength="200">
<button type="submit">Anmelden / Log in</button>
</form>
<h2>Demo-Konten <span lang="en">/ demo accounts</span></h2>
<ul>${accounts}</ul>
</body></html>`;
}
