"""Self-contained HTML reports of executed templates, through nbconvert.

The report has no code, no parameters cell and no prompts (``exclude_input``:
papermill's ``report_mode`` is ignored by nbconvert's HTML templates). From the top:
links (back to the output root's ``index.html``, the notebook, run.json, the data
files), the title, the verdict block (`nbcatalog.report_layout`: the run's verdict
and top findings, or its no_data banner), the parameters, time range and data
source (secrets already redacted by the caller), a table of contents with each
section's finding count, then the sections. Every value is escaped.

Tables: each ``nblib.tables`` table whose rows come from a glued frame (same
columns, same first row; looked for in its cell, then its section, then the whole
run) gets every row of that frame, up to `report_data.MAX_INLINE_ROWS`, as JSON
in the page, and a small script searches, sorts and pages them; the full frames
are written as ``data/<name>.csv`` and ``.parquet`` and linked. Without script (a
mail client, the web app's sandbox, print) the template's own first rows show.

Charts: a `nblib.plots.Chart` output shows its Bokeh version (hover, zoom, pan)
with BokehJS inlined once; its PNG stays for print and script-less views.

It opens offline: nbconvert's lab template would load require.js, MathJax,
mermaid and the widget renderer from CDNs, so those blocks are emptied; styles
and scripts are inline, and a Content-Security-Policy meta tag allows only the
scripts this module put there (by hash), no remote request of any kind.

Example:
    >>> from nbcatalog.reports import write_report
    >>> write_report("run/notebook.ipynb", "run/report.html",
    ...              {"template": "host_summary", "parameters": {"host": "WKSTN-042"}})
    ...                                                           # doctest: +SKIP
    PosixPath('run/report.html')
"""

from __future__ import annotations

import base64
import copy
import html
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from nbcatalog import report_assets as assets
from nbcatalog.report_data import DataFile, as_frame, cell_text, table_rows
from nbcatalog.report_layout import Links, Section, links_html, toc_html, verdict_html
from nbcatalog.results import SCRAP_MIME_PREFIX
from nbcatalog.runfolder import write_text
from nbcatalog.runstate import NO_DATA

HIDDEN_CELL_TAGS = frozenset(
    {"parameters", "injected-parameters", "papermill-error-cell-tag", "nbcatalog-error"}
)

# Extends nbconvert's lab template; the emptied blocks are the ones that fetch from CDNs.
REPORT_TEMPLATE = """\
{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block body_header -%}
{{ super() }}
{{ resources.nbcatalog_header }}
{%- endblock body_header -%}
"""

HEADER_STYLE = """<style type="text/css">
.nbcatalog-header { font-family: sans-serif; margin: 1em 0 2em; padding: 1em 1.5em;
  border-left: 6px solid #2a6ebb; background: #f4f7fb; }
.nbcatalog-header h1 { margin: 0 0 .3em; font-size: 1.6em; }
.nbcatalog-header table { border-collapse: collapse; margin-top: .5em; }
.nbcatalog-header th, .nbcatalog-header td { text-align: left; padding: .15em .8em .15em 0;
  vertical-align: top; }
.nbcatalog-header td { font-family: monospace; white-space: pre-wrap; }
</style>"""

# A table nblib.tables wrote, and the "showing the first N of M rows" line after it.
_TABLE = re.compile(
    r'<table class="nbcatalog-table"[^>]*>.*?</table>'
    r'(?:<p style="[^"]*">showing the first \d+ of \d+ rows[^<]*</p>)?',
    re.S,
)
_HEAD_CELL = re.compile(r"<th(?:\s[^>]*)?>(.*?)</th>", re.S)
_FIRST_ROW = re.compile(r"<tbody>\s*<tr>(.*?)</tr>", re.S)
_BODY_CELL = re.compile(r"<td(?:\s[^>]*)?>(.*?)</td>", re.S)
_STATIC_CELL_CHARS = 400  # where nblib.tables cuts a cell
_FRAME_SCRAP = SCRAP_MIME_PREFIX + "nbcatalog-frame+json"


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str, ensure_ascii=False)


def header_html(run_info: Mapping[str, Any], *, links: Links | None = None, sections=()) -> str:
    """The report's header: links, title, verdict block, then the run's details (escaped).

    The details are the notebooklet, time range, data source and parameters.

    Example:
        >>> "&lt;b&gt;" in header_html({"template": "t", "parameters": {"host": "<b>"}})
        True
    """
    esc = html.escape
    name = _text(run_info.get("template", ""))
    title = _text(run_info.get("title") or name)
    params = {
        k: v
        for k, v in dict(run_info.get("parameters") or {}).items()
        if k not in ("start", "end", "data_source")
    }
    rows = [
        ("Notebooklet", f"{title} ({name})" if title != name else name),
        ("Time range", f"{_text(run_info.get('start', ''))} to {_text(run_info.get('end', ''))}"),
        ("Data source", _text(run_info.get("data_source", ""))),
    ]
    rows += [(f"Parameter {k}", _text(v)) for k, v in params.items()]
    if run_info.get("finished"):
        rows.append(("Run finished", _text(run_info["finished"])))
    if run_info.get("run_id"):
        rows.append(("Run", _text(run_info["run_id"])))
    if run_info.get("status") == NO_DATA:
        rows.insert(0, ("Status", "no_data"))
    body = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows)
    # The verdict (a no_data run's banner inside it) comes before any detail or section.
    return (
        f'{HEADER_STYLE}<header class="nbcatalog-header">{links_html(links or Links())}'
        f"<h1>{esc(title)}</h1>{verdict_html(run_info, sections, links)}"
        f'<table class="nbc-details">{body}</table></header>'
    )


def report_sections(nb: nbformat.NotebookNode) -> list[Section]:
    """The sections of an executed template, in order, titled by their first heading.

    Example:
        >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        ...     "## Alerts", metadata={"tags": ["section:alerts"]})])
        >>> report_sections(nb)
        [Section(id='alerts', title='Alerts')]
    """
    found: dict[str, str] = {}
    for cell in nb.cells:
        section = _section_of(cell)
        if section is None or section in found and found[section]:
            continue
        title = ""
        if cell.cell_type == "markdown":
            heading = re.search(r"^#{1,6}\s+(.+?)\s*#*\s*$", cell.source, re.M)
            title = heading.group(1) if heading else ""
        found[section] = title
    return [Section(sid, title or sid) for sid, title in found.items()]


def _section_of(cell: Any) -> str | None:
    for tag in cell.metadata.get("tags", []):
        if isinstance(tag, str) and tag.startswith("section:"):
            return tag.split(":", 1)[1]
    return None


@dataclass
class _Enhancer:
    """Swaps static tables for their full rows and PNG charts for their Bokeh twins.

    Collects the JSON blocks the page needs at its end.
    """

    frames: Mapping[str, Any]
    files: Mapping[str, DataFile]
    blocks: list[str] = field(default_factory=list)
    charts: int = 0
    tables: int = 0

    def chart(self, data: dict[str, Any]) -> dict[str, Any]:
        item = data.pop(assets.CHART_MIME)
        png = data.get("image/png")
        try:
            item = json.loads(item["json_item"])
        except (TypeError, KeyError, ValueError):
            return data  # not a chart this module wrote: the PNG alone
        if not isinstance(item, dict) or not png:
            return data
        self.charts += 1
        key = f"nbc-chart-{self.charts}"
        self.blocks.append(assets.json_script(key, item))
        png_text = png if isinstance(png, str) else base64.b64encode(png).decode("ascii")
        return {
            "text/html": (
                f'<div class="nbc-chart" data-chart="{key}">'
                f'<div class="nbc-chart-live" id="{key}-live"></div>'
                '<p class="nbc-chart-hint">Hover a point for details; scroll to zoom, drag '
                "to pan, the ↻ tool resets.</p>"
                f'<img class="nbc-chart-static" alt="chart" '
                f'src="data:image/png;base64,{"".join(png_text.split())}"/></div>'
            )
        }

    def html(self, text: str, candidates: list[str]) -> str:
        return _TABLE.sub(lambda m: self._table(m.group(0), candidates), text)

    def _table(self, static: str, candidates: list[str]) -> str:
        headers = [html.unescape(h) for h in _HEAD_CELL.findall(static)]
        first = _FIRST_ROW.search(static)
        if not headers or first is None:
            return static
        shown = [html.unescape(c) for c in _BODY_CELL.findall(first.group(1))]
        for name in candidates:
            frame = as_frame(self.frames.get(name))
            if frame is None or frame.empty or not set(headers) <= set(map(str, frame.columns)):
                continue
            frame = frame.rename(columns=str)
            texts = [cell_text(v)[:_STATIC_CELL_CHARS] for v in frame.iloc[0][headers]]
            if [t.rstrip(" …") for t in texts] != [t.rstrip(" …") for t in shown]:
                continue
            return self._interactive(static, name, frame, headers)
        return static

    def _interactive(self, static: str, name: str, frame: Any, headers: list[str]) -> str:
        self.tables += 1
        key = f"nbc-rows-{self.tables}"
        rows = table_rows(frame, headers)
        self.blocks.append(
            assets.json_script(key, {"label": name, "columns": headers, "rows": rows})
        )
        note = f"{len(frame)} row{'s' if len(frame) != 1 else ''}"
        if len(frame) > len(rows):
            note = f"the first {len(rows)} of {len(frame)} rows are in this report"
        files = self.files.get(name)
        links = ""
        if files is not None:
            links = "".join(
                f'<a href="{html.escape(path)}">{html.escape(path)}</a>'
                for path in (files.csv, files.parquet)
                if path
            )
            links = f"; all rows: {links}"
        return (
            f'<div class="nbc-table" data-rows="{key}"><div class="nbc-static">{static}</div>'
            f'<p class="nbc-files">{html.escape(name)}: {html.escape(note)}{links}</p></div>'
        )


def _cell_frames(cell: Any) -> list[str]:
    names = []
    for output in cell.get("outputs", []):
        meta = (output.get("metadata") or {}).get("scrapbook") or {}
        if _FRAME_SCRAP in output.get("data", {}) and meta.get("name"):
            names.append(str(meta["name"]))
    return names


def _report_notebook(
    nb: nbformat.NotebookNode, enhancer: _Enhancer | None = None
) -> nbformat.NotebookNode:
    """A copy without the parameter cells, error markers, scrap payloads and stderr.

    Each section's first markdown cell gets the anchor the contents link to; with
    an `enhancer`, tables and charts are made interactive.
    """
    nb = copy.deepcopy(nb)
    section_frames: dict[str | None, list[str]] = {}
    for cell in nb.cells:
        if cell.cell_type == "code":
            section_frames.setdefault(_section_of(cell), []).extend(_cell_frames(cell))
    every_frame = [n for names in section_frames.values() for n in names]
    anchored: set[str] = set()
    cells = []
    for cell in nb.cells:
        if HIDDEN_CELL_TAGS & set(cell.metadata.get("tags", [])):
            continue
        section = _section_of(cell)
        if cell.cell_type == "markdown" and section is not None and section not in anchored:
            anchored.add(section)
            anchor = Section(section, section).anchor
            cell.source = f'<a id="{anchor}" class="nbc-anchor"></a>\n\n{cell.source}'
        if cell.cell_type == "code":
            candidates = list(
                dict.fromkeys(_cell_frames(cell) + section_frames.get(section, []) + every_frame)
            )
            kept = []
            for output in cell.get("outputs", []):
                if output.get("output_type") == "stream" and output.get("name") == "stderr":
                    continue
                if "data" in output:
                    data = {
                        k: v
                        for k, v in output["data"].items()
                        if not k.startswith(SCRAP_MIME_PREFIX)
                    }
                    if enhancer is not None and assets.CHART_MIME in data:
                        data = enhancer.chart(data)
                    data.pop(assets.CHART_MIME, None)
                    if enhancer is not None and isinstance(data.get("text/html"), str):
                        data["text/html"] = enhancer.html(data["text/html"], candidates)
                    output["data"] = data
                    if not data:
                        continue
                kept.append(output)
            cell.outputs = kept
            if not kept:
                continue  # an empty output area is just blank space in a report
        cells.append(cell)
    nb.cells = cells
    nb.metadata.pop("widgets", None)
    return nb


def _nbconvert_template_dirs() -> list[str]:
    """nbconvert's own template folder, found from where nbconvert is installed.

    nbconvert looks for its templates under the Jupyter data paths of the running
    prefix; when nbconvert lives in another prefix (a --target install, a venv
    reusing another's packages) that misses them.
    """
    import nbconvert

    package = Path(nbconvert.__file__).resolve().parent
    for parent in package.parents:
        candidate = parent / "share" / "jupyter" / "nbconvert" / "templates"
        if (candidate / "lab").is_dir():
            return [str(candidate)]
    return []


def _finish(page: str, enhancer: _Enhancer) -> str:
    """Add the CSP meta tag, the styles, the JSON blocks and the (hashed) scripts."""
    scripts = []
    if enhancer.tables:
        scripts.append(assets.TABLE_SCRIPT)
    if enhancer.charts:
        scripts += assets.bokeh_scripts() + [assets.CHART_SCRIPT]
    meta = assets.csp_meta(scripts)
    charset = re.search(r"<meta charset=[^>]*>", page)
    at = charset.end() if charset else page.index("<head>") + len("<head>")
    page = page[:at] + meta + page[at:]
    at = page.rindex("</head>")
    page = page[:at] + assets.REPORT_STYLE + page[at:]
    tail = "".join(enhancer.blocks) + "".join(f"<script>{s}</script>" for s in scripts)
    at = page.rindex("</body>")
    return page[:at] + tail + page[at:]


def render_report(
    nb: nbformat.NotebookNode,
    run_info: Mapping[str, Any],
    *,
    frames: Mapping[str, Any] | None = None,
    links: Links | None = None,
) -> str:
    """The report HTML for an executed notebook node.

    `frames` are the run's glued values by name (the tables' full rows come from
    them); `links` the files the report links to (see `write_report`).

    Example:
        >>> page = render_report(nbformat.v4.new_notebook(), {"template": "t"})
        >>> "Content-Security-Policy" in page
        True
    """
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    links = links or Links()
    own = _nbconvert_template_dirs()
    exporter = HTMLExporter(
        # Also replaces the default base dir, the cwd: a "lab" folder there is not ours.
        extra_template_basedirs=own,
        extra_template_paths=own,
        template_name="lab",
        extra_loaders=[DictLoader({"nbcatalog_report.html.j2": REPORT_TEMPLATE})],
        template_file="nbcatalog_report.html.j2",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    files = {item.name: item for item in links.data}
    enhancer = _Enhancer(frames or {}, files)
    sections = report_sections(nb)
    report_nb = _report_notebook(nb, enhancer)
    report_nb.metadata["title"] = _text(run_info.get("title") or run_info.get("template", ""))
    top = header_html(run_info, links=links, sections=sections) + toc_html(run_info, sections)
    body, _ = exporter.from_notebook_node(report_nb, resources={"nbcatalog_header": top})
    return _finish(body, enhancer)


def _harvested_frames(notebook_path: Path) -> dict[str, Any]:
    from nbcatalog.harvest import harvest

    data = harvest(notebook_path).data
    return {name: value for name, value in data.items() if as_frame(value) is not None}


def write_report(
    notebook_path: str | Path,
    out_path: str | Path,
    run_info: Mapping[str, Any],
    *,
    frames: Mapping[str, Any] | None = None,
) -> Path:
    """Write the HTML report of the executed notebook at `notebook_path` (atomically).

    `run_info` is run.json: ``template``, ``title``, ``parameters`` (already
    redacted), ``start``, ``end``, ``data_source``, ``status``, ``no_data``, and
    ``verdict``/``findings`` when the template recorded them. `frames` are the
    glued results (read from the notebook when not given). When the report sits in
    the notebook's run folder, the frames are also written to ``data/`` as CSV and
    parquet, and the report links them, run.json, the notebook and the output
    root's ``index.html``.

    Example:
        >>> write_report(run_dir / "notebook.ipynb", run_dir / "report.html", info)
        ...                                                          # doctest: +SKIP
    """
    from nbcatalog.lazycharts import draw_outputs
    from nbcatalog.report_data import export_frames

    notebook_path, out_path = Path(notebook_path), Path(out_path)
    nb = nbformat.read(notebook_path, as_version=4)
    draw_outputs(nb)  # charts a run left undrawn (nbcatalog.lazycharts)
    if frames is None:
        frames = _harvested_frames(notebook_path)
    links = Links()
    run_dir = out_path.parent
    if notebook_path.parent.resolve() == run_dir.resolve():
        links.notebook = notebook_path.name
        links.data = list(export_frames(frames, run_dir).values())
        if (run_dir / "run.json").exists():
            links.run_json = "run.json"
            # <root>/<template>/<run>/: the root's index lists every run (history writes it).
            links.index = "../../index.html"
    return write_text(out_path, render_report(nb, run_info, frames=frames, links=links))


def drop_notebook_link(report_path: str | Path) -> None:
    """Take the notebook link out of a report whose notebook was not kept (schedules).

    Example:
        >>> drop_notebook_link("output/host_summary/20240501T000000Z-ab12cd/report.html")
        ...                                                          # doctest: +SKIP
    """
    path = Path(report_path)
    if not path.exists():
        return
    text = path.read_text(encoding="utf-8")
    trimmed = re.sub(r'<a class="nbc-link-notebook" href="[^"]*">Notebook</a>', "", text, count=1)
    if trimmed != text:
        write_text(path, trimmed)
