"""The CSS and scripts inlined into reports and the index, and the CSP that allows only them.

A report is one file that opens offline, from disk, from a mail attachment or
behind the web app; so every script is inlined once and a strict
Content-Security-Policy meta tag names each by its SHA-256 hash: a ``<script>``
that log text smuggled into the page (it should never get there: every value is
escaped) would not run. There is no ``unsafe-eval`` and nothing may be fetched;
styles stay ``unsafe-inline`` because nbconvert and the tables style inline.

The table script reads rows from ``<script type="application/json">`` blocks (data,
never run) and writes every cell with ``textContent``, so hostile strings stay
text whatever they contain.

Example:
    >>> csp = content_security_policy([TABLE_SCRIPT])
    >>> "script-src 'sha256-" in csp and "unsafe-eval" not in csp
    True
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterable
from typing import Any

# The MIME type under which a chart carries its Bokeh ``json_item`` (as JSON text, in
# ``{"json_item": ...}``) next to its PNG.
CHART_MIME = "application/vnd.nbcatalog.bokeh+json"


def script_hash(script: str) -> str:
    """The CSP source expression allowing exactly the inline script `script`.

    Example:
        >>> script_hash("")
        "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"
    """
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def content_security_policy(scripts: Iterable[str]) -> str:
    """A CSP for a self-contained page whose only scripts are `scripts` (inline, hashed).

    ``frame-ancestors`` and ``sandbox`` are left out: a meta tag cannot carry them
    (the web app sends them as headers).

    Example:
        >>> content_security_policy([]).split("; ")[:2]
        ["default-src 'none'", "script-src 'none'"]
    """
    hashes = sorted({script_hash(s) for s in scripts})
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src {' '.join(hashes)}" if hashes else "script-src 'none'",
            "style-src 'unsafe-inline'",
            "img-src data:",
            "font-src data:",
            "connect-src 'none'",
            "base-uri 'none'",
            "form-action 'none'",
        ]
    )


def csp_meta(scripts: Iterable[str]) -> str:
    """The ``<meta http-equiv="Content-Security-Policy">`` tag for `scripts`.

    Example:
        >>> csp_meta([]).startswith('<meta http-equiv="Content-Security-Policy"')
        True
    """
    return (
        f'<meta http-equiv="Content-Security-Policy" content="{content_security_policy(scripts)}">'
    )


def json_script(element_id: str, payload: Any) -> str:
    """`payload` as a ``<script type="application/json">`` block that no text can close early.

    ``<``, ``>`` and ``&`` are written as JSON escapes, so a value holding
    ``</script>`` or ``<!--`` stays inside the string.

    Example:
        >>> json_script("d", {"a": "</script>"})
        '<script type="application/json" id="d">{"a": "\\\\u003c/script\\\\u003e"}</script>'
    """
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    # U+2028/2029 are valid in JSON but were line ends in older script parsers.
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return f'<script type="application/json" id="{element_id}">{text}</script>'


REPORT_STYLE = """<style type="text/css">
.nbc-top { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; }
.nbc-links { font-size: .85em; margin: 0 0 .6em; color: #445; }
.nbc-links a { margin-right: 1em; }
.nbc-links details { display: inline-block; vertical-align: top; }
.nbc-links details a { display: inline-block; margin: .1em .8em .1em 0; }
.nbc-verdict { margin: .8em 0 1em; padding: .8em 1.2em; border-radius: 6px;
  border-left: 8px solid #2e7d32; background: #eef7ef; }
.nbc-verdict.level-high, .nbc-verdict.level-failed { border-color: #b71c1c; background: #fdecea; }
.nbc-verdict.level-medium, .nbc-verdict.level-no_data { border-color: #e67e00;
  background: #fff4e0; }
.nbc-verdict.level-low, .nbc-verdict.level-info { border-color: #2a6ebb; background: #eef3fb; }
.nbc-verdict h2 { margin: 0 0 .3em; font-size: 1.25em; }
.nbc-verdict .nbc-counts { margin: .2em 0 .5em; font-weight: 600; }
.nbc-verdict ol { margin: .3em 0 0; padding-left: 1.4em; }
.nbc-verdict li { margin: .25em 0; }
.nbc-sev { display: inline-block; min-width: 4.5em; text-align: center; font-size: .8em;
  font-weight: 700; border-radius: .6em; padding: 0 .4em; margin-right: .4em;
  text-transform: uppercase; }
.nbc-sev-high { background: #b71c1c; color: #fff; }
.nbc-sev-medium { background: #e67e00; color: #fff; }
.nbc-sev-low { background: #2a6ebb; color: #fff; }
.nbc-sev-info { background: #778; color: #fff; }
.nbc-toc { margin: 0 0 2em; padding: .6em 1.2em; background: #f7f8fa; border-radius: 6px; }
.nbc-toc h2 { font-size: 1.05em; margin: 0 0 .3em; }
.nbc-toc ol { margin: 0; padding-left: 1.4em; columns: 2; }
.nbc-toc .nbc-count { font-size: .85em; color: #8a1c1c; font-weight: 600; }
.nbc-toc .nbc-none { font-size: .85em; color: #889; }
.nbc-anchor { position: relative; top: -.5em; }
.nbc-table { margin: 4px 0 14px; font-family: system-ui, -apple-system, "Segoe UI", sans-serif; }
.nbc-enhanced > .nbc-static { display: none; }
.nbc-controls { display: flex; flex-wrap: wrap; gap: .6em; align-items: center;
  font-size: 12px; margin: 2px 0 4px; }
.nbc-controls input[type=search] { min-width: 16em; padding: 2px 6px; }
.nbc-controls button { padding: 1px 8px; }
.nbc-status { color: #445; }
.nbc-table .nbc-live table { border-collapse: collapse; font-size: 12px; }
.nbc-table .nbc-live table th, .nbc-table .nbc-live table td { border: 1px solid #ddd;
  padding: 3px 6px; text-align: left;
  vertical-align: top; overflow-wrap: anywhere; max-width: 48em; }
.nbc-live th { background: #f3f3f3; white-space: nowrap; }
.nbc-live th button { all: unset; cursor: pointer; font-weight: 700; }
.nbc-live th button:focus-visible { outline: 2px solid #2a6ebb; }
.nbc-live td.nbc-short { white-space: nowrap; }
/* Wide event tables: a text column keeps a readable width and the table scrolls
   sideways, instead of squeezing columns to one word per line. */
.nbc-live, .jp-OutputArea-output { overflow-x: auto; }
.nbc-live td:not(.nbc-short), table.nbcatalog-table td[style*="overflow-wrap"] {
  min-width: 14em; }
.nbc-live td.nbc-long, table.nbcatalog-table td.nbc-long { min-width: 30em; }
.nbc-files { font-size: 11px; color: #556; margin: 2px 0 0; }
.nbc-files a { margin-left: .5em; }
.nbc-chart-live { display: none; }
.nbc-chart.nbc-enhanced .nbc-chart-live { display: block; }
.nbc-chart.nbc-enhanced .nbc-chart-static { display: none; }
.nbc-chart-hint { display: none; font-size: 11px; color: #667; margin: 0 0 8px; }
.nbc-chart.nbc-enhanced .nbc-chart-hint { display: block; }
@media print {
  .nbc-live, .nbc-controls, .nbc-chart-live, .nbc-chart-hint { display: none !important; }
  .nbc-enhanced > .nbc-static, .nbc-chart.nbc-enhanced .nbc-chart-static {
    display: block !important; }
  .nbc-toc ol { columns: 1; }
  thead { display: table-header-group; }
  tr, img, .nbc-verdict { break-inside: avoid; }
  h2, h3, h4 { break-after: avoid; }
  a { color: inherit; text-decoration: none; }
  .jp-OutputArea-output, .jp-RenderedHTMLCommon { overflow: visible !important; }
  .jp-RenderedHTMLCommon table { font-size: 9px; max-width: 100%; }
  .jp-RenderedHTMLCommon td { overflow-wrap: anywhere; }
}
</style>"""

# Pages through, searches and sorts every row of each `.nbc-table` (rows from its JSON
# block). Cells are written with textContent only: data never becomes markup.
TABLE_SCRIPT = """(function () {
  "use strict";
  var SIZES = [10, 25, 50, 100, 500];
  var NUMBER = /^-?\\d+(\\.\\d+)?$/;
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }
  function compare(a, b) {
    if (NUMBER.test(a) && NUMBER.test(b)) { return parseFloat(a) - parseFloat(b); }
    return a < b ? -1 : (a > b ? 1 : 0);
  }
  function enhance(box) {
    var source = document.getElementById(box.getAttribute("data-rows"));
    if (!source) { return; }
    var spec = JSON.parse(source.textContent);
    var rows = spec.rows, columns = spec.columns, label = spec.label || "table";
    var lower = null, view = rows, page = 0, size = 25, sortCol = -1, sortDir = 1;
    var live = el("div", "nbc-live");
    var controls = el("div", "nbc-controls");
    var search = el("input");
    search.type = "search";
    search.placeholder = "Search " + rows.length + " rows";
    search.setAttribute("aria-label", "Search " + label);
    var sizeSel = el("select");
    sizeSel.setAttribute("aria-label", "Rows per page of " + label);
    SIZES.forEach(function (n) {
      var o = el("option", "", n + " per page");
      o.value = String(n);
      if (n === size) { o.selected = true; }
      sizeSel.appendChild(o);
    });
    function button(text, name) {
      var b = el("button", "", text);
      b.type = "button";
      b.setAttribute("aria-label", name + " page of " + label);
      controls.appendChild(b);
      return b;
    }
    controls.appendChild(search);
    controls.appendChild(sizeSel);
    var first = button("\\u00ab First", "First"), prev = button("\\u2039 Prev", "Previous");
    var next = button("Next \\u203a", "Next"), last = button("Last \\u00bb", "Last");
    var status = el("span", "nbc-status");
    status.setAttribute("aria-live", "polite");
    controls.appendChild(status);
    var table = el("table"), thead = el("thead"), tbody = el("tbody"), headRow = el("tr");
    var heads = columns.map(function (name, i) {
      var th = el("th"), b = el("button", "", name);
      b.type = "button";
      b.title = "Sort by " + name;
      b.addEventListener("click", function () { sortBy(i); });
      th.appendChild(b);
      headRow.appendChild(th);
      return th;
    });
    thead.appendChild(headRow);
    table.appendChild(thead);
    table.appendChild(tbody);
    live.appendChild(controls);
    live.appendChild(table);
    function pages() { return Math.max(1, Math.ceil(view.length / size)); }
    function draw() {
      page = Math.min(Math.max(page, 0), pages() - 1);
      var start = page * size, end = Math.min(view.length, start + size);
      var body = document.createDocumentFragment();
      for (var r = start; r < end; r++) {
        var tr = el("tr"), row = view[r];
        for (var c = 0; c < row.length; c++) {
          var text = row[c] === null ? "" : String(row[c]);
          var fit = text.length <= 24 ? "nbc-short" : (text.length > 80 ? "nbc-long" : "");
          tr.appendChild(el("td", fit, text));
        }
        body.appendChild(tr);
      }
      tbody.textContent = "";
      tbody.appendChild(body);
      var filtered = view.length === rows.length ? "" : " (filtered from " + rows.length + ")";
      status.textContent = view.length
        ? "Rows " + (start + 1) + "\\u2013" + end + " of " + view.length + filtered +
          " \\u00b7 page " + (page + 1) + " of " + pages()
        : "No rows match" + filtered;
      first.disabled = prev.disabled = page === 0;
      next.disabled = last.disabled = page >= pages() - 1;
      heads.forEach(function (th, i) {
        var order = sortDir > 0 ? "ascending" : "descending";
        th.setAttribute("aria-sort", i !== sortCol ? "none" : order);
      });
    }
    function filter() {
      var q = search.value.trim().toLowerCase();
      if (!q) { view = rows.slice(); } else {
        if (lower === null) {
          lower = rows.map(function (row) { return row.join("\\u0001").toLowerCase(); });
        }
        view = [];
        for (var i = 0; i < rows.length; i++) {
          if (lower[i].indexOf(q) >= 0) { view.push(rows[i]); }
        }
      }
      if (sortCol >= 0) { sortView(); }
      page = 0;
      draw();
    }
    function sortView() {
      var col = sortCol, dir = sortDir;
      view.sort(function (a, b) {
        return dir * compare(String(a[col] || ""), String(b[col] || ""));
      });
    }
    function sortBy(i) {
      sortDir = sortCol === i ? -sortDir : 1;
      sortCol = i;
      sortView();
      page = 0;
      draw();
    }
    search.addEventListener("input", filter);
    sizeSel.addEventListener("change", function () {
      size = parseInt(sizeSel.value, 10);
      page = 0;
      draw();
    });
    first.addEventListener("click", function () { page = 0; draw(); });
    prev.addEventListener("click", function () { page -= 1; draw(); });
    next.addEventListener("click", function () { page += 1; draw(); });
    last.addEventListener("click", function () { page = pages() - 1; draw(); });
    if (rows.length <= SIZES[0]) {
      // One page whatever the size: paging controls would only be noise.
      [sizeSel, first, prev, next, last].forEach(function (e) { e.hidden = true; });
    }
    view = rows.slice();
    box.insertBefore(live, box.firstChild);
    box.classList.add("nbc-enhanced");
    draw();
  }
  function start() {
    var boxes = document.querySelectorAll(".nbc-table[data-rows]");
    for (var i = 0; i < boxes.length; i++) { enhance(boxes[i]); }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else { start(); }
})();"""

# Puts each chart's Bokeh document in its place; the PNG stays for print and no-script views.
CHART_SCRIPT = """(function () {
  "use strict";
  function start() {
    if (!window.Bokeh) { return; }
    var boxes = document.querySelectorAll(".nbc-chart[data-chart]");
    for (var i = 0; i < boxes.length; i++) {
      var box = boxes[i], source = document.getElementById(box.getAttribute("data-chart"));
      var target = box.querySelector(".nbc-chart-live");
      if (!source || !target) { continue; }
      box.classList.add("nbc-enhanced");
      window.Bokeh.embed.embed_item(JSON.parse(source.textContent), target.id);
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else { start(); }
})();"""


def bokeh_scripts() -> list[str]:
    """BokehJS (the core bundle only: no widgets, tables, GL or MathJax), to inline.

    Example:
        >>> len(bokeh_scripts()[0]) > 100_000
        True
    """
    from bokeh.resources import Resources

    scripts = Resources(mode="inline", components=["bokeh"]).js_raw
    # BokehJS would fetch MathJax from a CDN for math labels (never used here): point it
    # nowhere, so the report holds no remote address even in code the CSP would stop.
    return [_CDN.sub("about:blank", s) for s in scripts if s.strip()]


_CDN = re.compile(r"https://cdn\.jsdelivr\.net/npm/[^\"'`\s]*")
