/**
 * The dashboard's one stylesheet and its one script, served from the Worker itself: no build
 * step, nothing loaded from elsewhere. The script only enhances (copy buttons, confirmations);
 * every page works without it.
 */

export const STYLESHEET = `
:root {
  color-scheme: light dark;
  --bg: #f7f7f8; --panel: #ffffff; --text: #1b1d21; --muted: #5b6270; --line: #dfe2e7;
  --accent: #2f5bd3; --accent-text: #ffffff; --ok: #1e7a46; --warn: #9a5b00; --bad: #b3261e;
  --ok-bg: #e5f4ec; --warn-bg: #fbf0dc; --bad-bg: #fbe7e5; --focus: #2f5bd3;
  --radius: 8px; --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #121417; --panel: #1b1e23; --text: #e8eaed; --muted: #a3aab5; --line: #2e333b;
    --accent: #8fb0ff; --accent-text: #0d1220; --ok: #6fd49b; --warn: #f2c46d; --bad: #ff9a8f;
    --ok-bg: #163324; --warn-bg: #3a2d12; --bad-bg: #3d1a17; --focus: #8fb0ff;
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
a { color: var(--accent); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
header.top { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 20px; padding: 12px 20px;
  background: var(--panel); border-bottom: 1px solid var(--line); }
header.top .brand { font-weight: 700; text-decoration: none; color: var(--text); }
nav.main { display: flex; flex-wrap: wrap; gap: 4px 14px; flex: 1; }
nav.main a { text-decoration: none; color: var(--muted); padding: 2px 0; }
nav.main a[aria-current="page"] { color: var(--text); font-weight: 600; border-bottom: 2px solid var(--accent); }
main { max-width: 1100px; margin: 0 auto; padding: 20px; }
h1 { font-size: 1.5rem; margin: 0 0 16px; }
h2 { font-size: 1.15rem; margin: 24px 0 10px; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: var(--radius); padding: 16px; margin-bottom: 16px; }
.grid { display: grid; gap: 16px; grid-template-columns: repeat(auto-fit, minmax(240px, 1fr)); }
.metric { font-size: 1.8rem; font-weight: 700; }
.muted { color: var(--muted); }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: 8px 6px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; font-size: 0.85rem; }
.table-wrap { overflow-x: auto; }
code, pre, .mono { font-family: var(--mono); font-size: 0.85rem; }
pre { white-space: pre-wrap; word-break: break-word; background: var(--bg); padding: 10px; border-radius: 6px; border: 1px solid var(--line); }
.badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 0.8rem; background: var(--bg); border: 1px solid var(--line); }
.badge.ok { background: var(--ok-bg); color: var(--ok); border-color: transparent; }
.badge.warn { background: var(--warn-bg); color: var(--warn); border-color: transparent; }
.badge.bad { background: var(--bad-bg); color: var(--bad); border-color: transparent; }
form.inline { display: inline; }
label { display: block; font-weight: 600; margin: 10px 0 4px; }
input[type=text], input[type=password], input[type=url], input[type=tel], input[type=datetime-local], input[type=number], select, textarea {
  width: 100%; padding: 8px 10px; border: 1px solid var(--line); border-radius: 6px; background: var(--panel); color: var(--text); font: inherit; }
input[type=checkbox], input[type=radio] { width: 1.1em; height: 1.1em; accent-color: var(--accent); vertical-align: middle; }
input[type=time] { padding: 8px 10px; border: 1px solid var(--line); border-radius: 6px; background: var(--panel); color: var(--text); font: inherit; }
textarea { min-height: 90px; font-family: var(--mono); font-size: 0.85rem; }
.hint { color: var(--muted); font-size: 0.85rem; margin-top: 2px; }
.error { color: var(--bad); font-size: 0.9rem; margin-top: 4px; }
.notice { padding: 10px 12px; border-radius: 6px; margin-bottom: 16px; background: var(--ok-bg); color: var(--ok); }
.notice.bad { background: var(--bad-bg); color: var(--bad); }
button, .button { display: inline-block; padding: 8px 14px; border-radius: 6px; border: 1px solid var(--accent);
  background: var(--accent); color: var(--accent-text); font: inherit; font-weight: 600; cursor: pointer; text-decoration: none; }
button.secondary, .button.secondary { background: transparent; color: var(--accent); }
button.danger { background: var(--bad); border-color: var(--bad); color: #fff; }
.actions { display: flex; flex-wrap: wrap; gap: 8px; margin-top: 12px; }
.filters { display: grid; gap: 8px 12px; grid-template-columns: repeat(auto-fit, minmax(160px, 1fr)); align-items: end; }
.filters label { margin: 0 0 4px; }
svg.chart { width: 100%; height: 60px; display: block; }
svg.chart .bar { fill: var(--accent); }
svg.chart .bar.bad { fill: var(--bad); }
.bubble { max-width: 320px; padding: 10px 14px; border-radius: 16px 16px 16px 4px; background: var(--bg); border: 1px solid var(--line); white-space: pre-wrap; }
iframe.preview { width: 100%; min-height: 360px; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
fieldset { border: 1px solid var(--line); border-radius: var(--radius); padding: 12px 14px; margin: 0 0 14px; }
legend { font-weight: 700; padding: 0 6px; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
dt { color: var(--muted); }
dd { margin: 0; word-break: break-word; }
.field { margin-bottom: 8px; }
label:has(> input[type=checkbox]) { display: inline-flex; align-items: center; gap: 6px; font-weight: 400; margin: 4px 14px 4px 0; }
.timeline { list-style: none; margin: 0; padding: 0; }
.timeline li { border-left: 3px solid var(--line); padding: 4px 0 10px 14px; }
.sign-in { max-width: 380px; margin: 10vh auto; }
@media (max-width: 600px) { main { padding: 12px; } th, td { padding: 6px 4px; } .metric { font-size: 1.4rem; } }
`;

export const SCRIPT = `
document.addEventListener("click", (event) => {
  const copy = event.target.closest("[data-copy]");
  if (copy) {
    navigator.clipboard.writeText(copy.getAttribute("data-copy")).then(() => {
      const label = copy.textContent; copy.textContent = "Copied"; setTimeout(() => { copy.textContent = label; }, 1500);
    });
  }
});
document.addEventListener("submit", (event) => {
  const question = event.target.getAttribute("data-confirm");
  if (question && !window.confirm(question)) event.preventDefault();
});
`;
