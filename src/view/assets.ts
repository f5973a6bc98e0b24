// The viewer's two static files, served by the viewer itself (no CDN, nothing fetched from elsewhere):
// the stylesheet and a small script that applies filters on change and loads the next page of items
// into the list. The script inserts only server-rendered HTML (every data string escaped there).

export const VIEW_CSS = `
:root { --fg: #1d1d1f; --muted: #5a5a5f; --line: #d6d6dc; --head: #f2f2f5; --accent: #0072B2; }
* { box-sizing: border-box; }
body { font: 15px/1.5 'DejaVu Sans', 'Helvetica Neue', Helvetica, Arial, sans-serif; color: var(--fg); margin: 0; background: #fff; }
header.top { display: flex; gap: 16px; align-items: baseline; padding: 8px 28px; background: var(--head); border-bottom: 1px solid var(--line); }
header.top a { font-weight: 700; text-decoration: none; }
main { max-width: 1280px; margin: 0 auto; padding: 16px 28px 64px; }
h1 { font-size: 24px; margin: 4px 0 8px; overflow-wrap: anywhere; }
h3 { font-size: 14px; margin: 0 0 4px; overflow-wrap: anywhere; }
a { color: var(--accent); }
.meta, .small, .muted { color: var(--muted); }
.small { font-size: 12.5px; }
.na { color: var(--muted); font-style: italic; }
code, pre, .id { font-family: 'DejaVu Sans Mono', Menlo, Consolas, monospace; font-size: 12.5px; overflow-wrap: anywhere; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; margin: 4px 0; padding: 6px 8px; background: #fafafc; border: 1px solid var(--line); max-height: 28em; overflow: auto; }
table { border-collapse: collapse; margin: 8px 0 12px; font-size: 13.5px; width: 100%; }
th, td { border: 1px solid var(--line); padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: var(--head); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td code { font-size: 11.5px; }
.acc { font-weight: 700; }
.ci { white-space: nowrap; color: var(--muted); font-size: 12.5px; }
.warn, .o-error-text { color: #a3171b; }
tr.unreadable td { background: #fff4f4; }
.status { font-weight: 600; }
.status-finished { color: #0b6b2f; }
.status-failed, .status-interrupted { color: #a3171b; }
.status-incomplete, .status-running { color: #8a5a00; }
nav.crumbs { font-size: 13px; margin: 0 0 4px; }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 6px 0 12px; font-size: 13.5px; }
dl.kv dt { color: var(--muted); }
dl.kv dd { margin: 0; overflow-wrap: anywhere; }
.banner { border: 2px solid #c77c00; background: #fff6e0; padding: 0.5em 1em; margin: 0.8em 0; border-radius: 4px; }
.banner.error { border-color: #a3171b; background: #fff0f0; }
form.filters { display: flex; flex-wrap: wrap; gap: 6px 14px; align-items: center; padding: 8px 10px; background: var(--head); border: 1px solid var(--line); border-radius: 4px; font-size: 13.5px; }
form.filters select, form.filters input { font: inherit; max-width: 22em; }
details.defs { font-size: 13px; margin: 6px 0; }
details.defs dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 10px; }
details.defs dd { margin: 0; }
details > summary { cursor: pointer; color: var(--accent); font-size: 12.5px; }
p.count { font-size: 13.5px; margin: 10px 0; }
article.item { border: 1px solid var(--line); border-left: 5px solid var(--line); border-radius: 4px; padding: 8px 12px; margin: 0 0 12px; }
article.item > header { display: flex; flex-wrap: wrap; gap: 4px 10px; align-items: baseline; }
article.o-correct { border-left-color: #1a8a47; }
article.o-wrong { border-left-color: #c0392b; }
article.o-unparseable { border-left-color: #8e44ad; }
article.o-truncated { border-left-color: #c77c00; }
article.o-error { border-left-color: #4a4a4f; }
p.question { margin: 6px 0; overflow-wrap: anywhere; }
.badge { display: inline-block; padding: 0 8px; border-radius: 10px; font-weight: 700; font-size: 12px; white-space: nowrap; border: 1.5px solid currentColor; }
.badge.o-correct { color: #0b6b2f; background: #e3f5e9; }
.badge.o-wrong { color: #a3171b; background: #fbe5e5; }
.badge.o-unparseable { color: #6c2a86; background: #f3e6f8; }
.badge.o-truncated { color: #8a5a00; background: #fff2d6; }
.badge.o-error { color: #4a4a4f; background: #ececef; }
div.facts { font-size: 13.5px; margin: 4px 0; }
div.facts > div { margin: 1px 0; }
ol.options { list-style: none; padding: 0; margin: 4px 0 6px; font-size: 14px; }
ol.options li { padding: 1px 6px; overflow-wrap: anywhere; }
ol.options li.gold { background: #e3f5e9; }
ol.options li.answer:not(.gold) { background: #fbe5e5; }
.mark { font-size: 11px; font-weight: 700; text-transform: uppercase; margin-left: 4px; color: var(--muted); }
.letter { font-family: 'DejaVu Sans Mono', Menlo, monospace; }
.metric { white-space: nowrap; }
div.cells { display: grid; grid-template-columns: repeat(auto-fit, minmax(240px, 1fr)); gap: 8px; margin-top: 6px; }
div.cell { border: 1px solid var(--line); border-top: 4px solid var(--line); border-radius: 4px; padding: 6px 8px; font-size: 13.5px; min-width: 0; }
div.cell.o-correct { border-top-color: #1a8a47; }
div.cell.o-wrong { border-top-color: #c0392b; }
div.cell.o-unparseable { border-top-color: #8e44ad; }
div.cell.o-truncated { border-top-color: #c77c00; }
div.cell.o-error { border-top-color: #4a4a4f; }
nav.pager { margin: 12px 0; font-size: 14px; }
nav.pager a { display: inline-block; padding: 4px 14px; border: 1px solid var(--accent); border-radius: 4px; text-decoration: none; }
ul.notes { margin: 4px 0 8px; }
div.breakdowns { display: flex; flex-wrap: wrap; gap: 0 24px; align-items: flex-start; }
table.breakdown { width: auto; min-width: 320px; font-size: 13px; }
th .small { font-weight: normal; }
`;

/** Applies a filter when a menu changes; turns the "next" link into "load more" (fetches the items fragment). */
export const VIEW_SCRIPT = `(function () {
  'use strict';
  var form = document.getElementById('filters') || document.getElementById('show');
  if (form) {
    form.addEventListener('change', function (ev) {
      if (!ev.target || ev.target.tagName !== 'SELECT') return;
      // No run to flip against: the flip menu means nothing, so it is not sent.
      var flip = form.querySelector('select[name=flip]');
      if (ev.target.name === 'vs' && !ev.target.value && flip) flip.disabled = true;
      form.submit();
    });
  }
  function count() {
    var items = document.getElementById('items');
    return Number(items.getAttribute('data-offset') || 0) + items.querySelectorAll(':scope > article').length;
  }
  document.addEventListener('click', function (ev) {
    var link = ev.target && ev.target.closest ? ev.target.closest('a#more') : null;
    if (!link) return;
    ev.preventDefault();
    if (link.getAttribute('aria-busy') === 'true') return;
    link.setAttribute('aria-busy', 'true');
    fetch(link.getAttribute('data-fragment'), { headers: { Accept: 'text/html' } })
      .then(function (res) {
        if (!res.ok) return res.text().then(function (t) { throw new Error('HTTP ' + res.status + ': ' + t.slice(0, 200)); });
        return res.text();
      })
      .then(function (html) {
        // Server-rendered: every string from a dataset or a model was escaped there.
        var tpl = document.createElement('template');
        tpl.innerHTML = html;
        var pager = tpl.content.querySelector('#pager');
        if (pager) pager.remove();
        document.getElementById('items').appendChild(tpl.content);
        if (pager) document.getElementById('pager').replaceWith(pager);
        var shown = document.getElementById('shown');
        if (shown) shown.textContent = count().toLocaleString('en-US');
        document.documentElement.setAttribute('data-shown', String(count()));
      })
      .catch(function (e) {
        link.removeAttribute('aria-busy');
        link.textContent = 'could not load more (' + e.message + '); click to try again';
      });
  });
  document.documentElement.setAttribute('data-ready', 'true');
})();
`;
