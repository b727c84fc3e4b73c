/** The desk page's style sheet (served at /static/desk.css). Contrast at least 4.5:1 (WCAG 2.1 1.4.3), a visible focus ring. */
export const DESK_CSS = `
body{font-family:system-ui,sans-serif;margin:0;color:#111;background:#fff}
header{background:#004f9f;color:#fff;padding:1rem 1.5rem}header a{color:#fff}
main{max-width:40rem;margin:1.5rem auto;padding:0 1rem}
label{display:block;margin-top:.75rem;font-weight:600}
.check{margin-top:.75rem}.check label{display:inline;margin:0}
input,select,button{font-size:1rem;padding:.4rem;margin-top:.25rem}
input[type=text],input[type=password],input[type=date],select{width:100%;box-sizing:border-box}
fieldset{margin-top:1rem;border:1px solid #767676;border-radius:.4rem}
legend{font-weight:700}
.optional{font-weight:400;color:#444}
.hint{display:block;color:#444;margin-top:.15rem}
.derived{margin-top:.75rem;padding:.4rem .6rem;background:#eef3fa;border-left:4px solid #004f9f}
.derived output{font-weight:700}
button{background:#004f9f;color:#fff;border:0;border-radius:.25rem;margin-top:1rem;padding:.5rem 1rem;cursor:pointer}
button.secondary{background:#fff;color:#004f9f;border:2px solid #004f9f}
button.danger{background:#a11;color:#fff}
button:disabled{background:#767676;cursor:not-allowed}
button:focus,a:focus,input:focus,select:focus,[tabindex="-1"]:focus{outline:3px solid #b35c00;outline-offset:2px}
[aria-invalid=true]{border:2px solid #a11}
#error{color:#a11;font-weight:600}
#state{font-weight:600;padding:.5rem;border-radius:.25rem;background:#f2f2f2}
#state[data-state=collected]{background:#e3f4e1}
#state[data-state=awaiting_approval],#state[data-state=approved]{background:#fff4d6}
#state[data-state=locked],#state[data-state=expired]{background:#fbe4e4}
#lookup{margin-top:2.5rem;border-top:1px solid #767676;padding-top:.5rem}
dialog{border:3px solid #a11;border-radius:.5rem;max-width:30rem}
dialog::backdrop{background:rgba(0,0,0,.4)}
`;
