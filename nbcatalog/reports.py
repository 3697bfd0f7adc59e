"""Self-contained HTML reports of executed templates, through nbconvert.

The report has no code, no parameters cell and no prompts (``exclude_input``:
papermill's ``report_mode`` is ignored by nbconvert's HTML templates). It opens
with a header naming the notebooklet, its parameters (secrets already redacted by
the caller), the time range and the data source, every value escaped; a
``no_data`` run's header carries a loud banner saying what was missing. It opens
offline: nbconvert's lab template would load require.js, MathJax, mermaid and the
widget renderer from CDNs, so those blocks are emptied; styles are inlined by
nbconvert itself, and plot scripts come inline from the notebook's outputs.

Example:
    >>> from nbcatalog.reports import write_report
    >>> write_report("run/notebook.ipynb", "run/report.html",
    ...              {"template": "host_summary", "parameters": {"host": "WKSTN-042"}})
    ...                                                           # doctest: +SKIP
    PosixPath('run/report.html')
"""

from __future__ import annotations

import copy
import html
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import nbformat

from nbcatalog.results import SCRAP_MIME_PREFIX
from nbcatalog.runfolder import write_text
from nbcatalog.runstate import NO_DATA, banner_html

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


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str, ensure_ascii=False)


def header_html(run_info: Mapping[str, Any]) -> str:
    """The report's header: notebooklet, parameters, time range, data source (escaped).

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
    # A run that found nothing says so at the top, before any (empty) section.
    banner = banner_html(run_info.get("no_data") or {}) if run_info.get("status") == NO_DATA else ""
    return (
        f'{HEADER_STYLE}<header class="nbcatalog-header"><h1>{esc(title)}</h1>'
        f"<table>{body}</table>{banner}</header>"
    )


def _report_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy without the parameter cells, error markers, scrap payloads and stderr."""
    nb = copy.deepcopy(nb)
    cells = []
    for cell in nb.cells:
        if HIDDEN_CELL_TAGS & set(cell.metadata.get("tags", [])):
            continue
        if cell.cell_type == "code":
            kept = []
            for output in cell.get("outputs", []):
                if output.get("output_type") == "stream" and output.get("name") == "stderr":
                    continue
                if "data" in output:
                    output["data"] = {
                        k: v
                        for k, v in output["data"].items()
                        if not k.startswith(SCRAP_MIME_PREFIX)
                    }
                    if not output["data"]:
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


def render_report(nb: nbformat.NotebookNode, run_info: Mapping[str, Any]) -> str:
    """The report HTML for an executed notebook node."""
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

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
    report_nb = _report_notebook(nb)
    report_nb.metadata["title"] = _text(run_info.get("title") or run_info.get("template", ""))
    body, _ = exporter.from_notebook_node(
        report_nb, resources={"nbcatalog_header": header_html(run_info)}
    )
    return body


def write_report(
    notebook_path: str | Path, out_path: str | Path, run_info: Mapping[str, Any]
) -> Path:
    """Write the HTML report of the executed notebook at `notebook_path` (atomically).

    `run_info` supplies the header: ``template``, ``title``, ``parameters``
    (already redacted), ``start``, ``end``, ``data_source``.

    Example:
        >>> write_report(run_dir / "notebook.ipynb", run_dir / "report.html", info)
        ...                                                          # doctest: +SKIP
    """
    nb = nbformat.read(notebook_path, as_version=4)
    return write_text(out_path, render_report(nb, run_info))
