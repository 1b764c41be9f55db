/**
 * The one style sheet of the no-JavaScript pages (served same-origin: the CSP allows no inline
 * style). Narrow screens first: nothing wider than the screen at 320 pixels, touch targets of at
 * least 44 pixels, and logical properties only, so right-to-left pages mirror by themselves.
 */
export const BASIC_CSS = `*,*::before,*::after{box-sizing:border-box}
html{font-family:system-ui,sans-serif;font-size:100%;line-height:1.5;color:#111;background:#fff}
body{margin:0 auto;max-inline-size:42rem;padding:1rem;overflow-wrap:anywhere}
h1{font-size:1.5rem;line-height:1.25}h2{font-size:1.2rem;margin-block-start:2rem}
.site{font-weight:bold;margin:0}
.languages{list-style:none;display:flex;flex-wrap:wrap;gap:.25rem .75rem;padding:0;margin:.5rem 0}
.languages a,main a{display:inline-block;min-block-size:44px;padding-block:.6rem}
.languages a[aria-current]{font-weight:bold}
label{display:block;font-weight:bold;margin-block:1rem .25rem}
label.choice{font-weight:normal;min-block-size:44px;display:flex;align-items:center;gap:.5rem;margin:0}
input[type=radio]{inline-size:1.5rem;block-size:1.5rem}
input[type=text],textarea{inline-size:100%;max-inline-size:100%;font:inherit;padding:.6rem;border:1px solid #555;border-radius:4px}
input[type=file]{max-inline-size:100%;min-block-size:44px}
fieldset{border:1px solid #999;margin-block:1rem;padding:.5rem 1rem}legend{font-weight:bold}
button{font:inherit;min-block-size:44px;padding:.6rem 1.2rem;margin-block:1rem;max-inline-size:100%;border:0;border-radius:4px;background:#14507a;color:#fff;cursor:pointer}
.files button{background:#fff;color:#14507a;border:1px solid #14507a;margin-block:.25rem;text-align:start}
a{color:#14507a}a:focus,button:focus,input:focus,textarea:focus{outline:3px solid #c60;outline-offset:2px}
.hint{color:#444;margin-block-start:0}
.weaker{border-inline-start:6px solid #c60;background:#fff6ec;padding:.25rem 1rem;margin-block:1rem}
.code{font-family:ui-monospace,monospace;font-size:1.3rem;font-weight:bold;letter-spacing:.05em;direction:ltr;unicode-bidi:isolate;background:#eef;padding:.75rem;text-align:center}
.messages{list-style:none;padding:0}
.message{border:1px solid #bbb;border-radius:4px;padding:.5rem 1rem;margin-block:1rem}
.author{font-weight:bold;margin:0}.text{white-space:pre-wrap}
.problem{color:#900;font-weight:bold}
.steps li{margin-block:.25rem}.steps .done{color:#444}.steps .current{font-weight:bold}
`;
