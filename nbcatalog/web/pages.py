"""The pages behind the login: catalogue, run form, job progress, history, a run, its files.

Each handler reads what it shows from the same places the CLI and schedules use
(the catalogue, run history, run folders) and treats all of it as hostile text:
templates escape it, and paths from URLs go through `nbcatalog.web.files`.
A notebooklet is looked up by name in the catalogue only: a web user can never
run a notebook file by path.

Example:
    GET  /                         the catalogue
    GET  /run/host_summary         its run form; POST runs it (queued) -> /jobs/<id>
    GET  /history?status=failed    runs, newest first, with links to their files
    GET  /runs/<template>/<run id> one run; /rerun shows its form filled in
    GET  /files/<template>/<run id>/report.html   the report, under its CSP
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from nbcatalog.errors import UsageError
from nbcatalog.template import Template, normalize_name
from nbcatalog.web import csrf, files, forms
from nbcatalog.web.insights import run_insights
from nbcatalog.web.render import KNOWN_STATES, duration_text, render, seconds_between

HISTORY_LIMIT = 300


# ------------------------------------------------------------------ lookups


def find_notebooklet(name: str) -> Template | None:
    """The catalogue's notebooklet called `name` (either spelling), or None; never a path.

    Example:
        >>> find_notebooklet("host-summary").name          # doctest: +SKIP
        'host_summary'
        >>> find_notebooklet("/tmp/evil.ipynb") is None     # doctest: +SKIP
        True
    """
    from nbcatalog.catalog import catalog

    wanted = normalize_name(str(name))
    return next((t for t in catalog() if t.name == wanted), None)


def _root(request: Request) -> Path:
    return request.app.state.web.settings.output_root


def _run_info(folder: Path) -> dict[str, Any]:
    try:
        info = json.loads((folder / files.RUN_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return info if isinstance(info, dict) else {}


def _not_found(what: str) -> HTTPException:
    return HTTPException(404, f"not found: {what}")


# ---------------------------------------------------------------- catalogue


def catalogue(request: Request) -> Response:
    """GET /: the notebooklets by category, each with a Run button."""
    from nbcatalog.catalog import catalog, catalog_problems

    groups: dict[str, list[Template]] = {}
    for template in catalog():
        groups.setdefault(template.category, []).append(template)
    return render(
        request,
        "catalogue.html",
        {
            "groups": sorted(groups.items()),
            "problems": catalog_problems(),
            "output_root": str(_root(request)),
        },
    )


# ------------------------------------------------------------------ running


def _form_page(
    request: Request, template: Template, form: forms.RunForm, error: str = "", status: int = 200
) -> Response:
    from nbcatalog.config import default_data_source

    source = request.app.state.web.settings.data_source
    if source is None:
        try:
            source = default_data_source()
        except UsageError as exc:
            source, error = "(not configured)", error or str(exc)
    return render(
        request,
        "run_form.html",
        {"template": template, "form": form, "error": error, "data_source": source},
        status_code=status,
    )


def run_form_page(request: Request) -> Response:
    """GET /run/{name}: the empty run form of a notebooklet."""
    template = find_notebooklet(request.path_params["name"])
    if template is None:
        raise _not_found(f"no notebooklet named {request.path_params['name']!r} in the catalogue")
    return _form_page(request, template, forms.run_form(template))


def _rerun_of(request: Request, value: Any) -> str | None:
    parts = str(value or "").split("/")
    if len(parts) == 2 and files.run_folder(_root(request), parts[0], parts[1]):
        return "/".join(parts)
    return None


async def submit_run(request: Request) -> Response:
    """POST /run/{name}: check the parameters as the CLI does, queue the run, show its job."""
    web = request.app.state.web
    form = await csrf.checked_form(request, request.state.session.csrf)
    template = await run_in_threadpool(find_notebooklet, request.path_params["name"])
    if template is None:
        raise _not_found(f"no notebooklet named {request.path_params['name']!r} in the catalogue")
    rerun_of = _rerun_of(request, form.get("rerun_of"))
    raw = forms.raw_from_form(template, form)
    if web.settings.data_source:
        raw["data_source"] = web.settings.data_source
    from nbcatalog.parameters import resolve

    try:
        resolved = await run_in_threadpool(resolve, template, raw)
    except UsageError as exc:
        again = forms.form_from_submission(template, form, rerun_of)
        return _form_page(request, template, again, error=str(exc), status=422)
    # The range is fixed now: a run that waits in the queue still covers what was asked.
    params = {k: v for k, v in raw.items() if k not in ("last", "data_source")}
    params.update(start=resolved.values["start"], end=resolved.values["end"])
    job = web.jobs.submit(
        template.name,
        params,
        resolved.redacted,
        user=request.state.session.user,
        rerun_of=rerun_of,
    )
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


def job_page(request: Request) -> Response:
    """GET /jobs/{id}: a queued or running job (refreshing); a finished one goes to its run."""
    job = request.app.state.web.jobs.get(request.path_params["job_id"])
    if job is None:
        raise _not_found("no such job (the app may have restarted); see the history")
    if job.state == "done" and job.run_dir:
        return RedirectResponse(f"/runs/{job.run_dir}", status_code=303)
    ahead = request.app.state.web.jobs.ahead_of(job)
    return render(request, "job.html", {"job": job, "ahead": ahead})


# ------------------------------------------------------------------ history


def _history_choices(root: Path) -> tuple[list[str], list[str]]:
    from nbcatalog import history
    from nbcatalog.catalog import catalog

    templates = {t.name for t in catalog()}
    statuses = set(KNOWN_STATES) - {"queued", "cancelled"}
    if history.history_path(root).exists():
        conn = history.connect(root)
        try:
            templates |= {r[0] for r in conn.execute("SELECT DISTINCT template FROM runs")}
            statuses |= {r[0] for r in conn.execute("SELECT DISTINCT status FROM runs")}
        finally:
            conn.close()
    return sorted(templates), sorted(statuses)


def history_page(request: Request) -> Response:
    """GET /history: runs newest first, filtered by notebooklet and status; jobs in progress."""
    from nbcatalog import history
    from nbcatalog.catalog import catalog

    root = _root(request)
    template_filter = request.query_params.get("template", "")
    status_filter = request.query_params.get("status", "")
    records = history.list_runs(
        root,
        template=template_filter or None,
        status=status_filter or None,
        limit=HISTORY_LIMIT + 1,
    )
    catalogue_names = {t.name for t in catalog()}
    rows = []
    for record in records[:HISTORY_LIMIT]:
        parts = record.run_dir.split("/")
        folder = files.run_folder(root, *parts) if len(parts) == 2 else None
        rows.append(
            {
                "record": record,
                "files": files.listed_files(root, folder) if folder else [],
                "insights": run_insights(_run_info(folder)) if folder else run_insights({}),
                "rerunnable": folder is not None and record.template in catalogue_names,
            }
        )
    template_choices, status_choices = _history_choices(root)
    return render(
        request,
        "history.html",
        {
            "rows": rows,
            "limited": len(records) > HISTORY_LIMIT,
            "active": request.app.state.web.jobs.active(),
            "template_filter": template_filter,
            "status_filter": status_filter,
            "template_choices": template_choices,
            "status_choices": status_choices,
        },
    )


# ---------------------------------------------------------------------- runs


def _folder(request: Request) -> Path:
    template, run_id = request.path_params["template"], request.path_params["run_id"]
    folder = files.run_folder(_root(request), template, run_id)
    if folder is None:
        raise _not_found("no such run folder under the output root")
    return folder


def _results(info: dict[str, Any]) -> list[tuple[str, str]]:
    results = info.get("results")
    if not isinstance(results, dict):
        return []
    shown = []
    for name, value in results.items():
        if isinstance(value, dict) and value.get("type") in ("DataFrame", "Series"):
            text = f"{value.get('type')}, {value.get('rows')} rows"
        else:
            text = json.dumps(value, default=str, ensure_ascii=False)
            text = text if len(text) <= 200 else text[:199] + "…"
        shown.append((str(name), text))
    return shown


def run_page(request: Request) -> Response:
    """GET /runs/{template}/{run_id}: one run: status, findings, parameters, error, files."""
    from nbcatalog import history

    folder = _folder(request)
    root = _root(request)
    try:
        record = history.read_run(folder)
    except Exception as exc:  # run.json is anybody's text: any shape may fail to read
        raise _not_found(f"this run's run.json cannot be read ({type(exc).__name__})") from None
    info = _run_info(folder)
    listed = files.listed_files(root, folder)
    report = next((rel for rel, _ in listed if rel.endswith("/report.html")), None)
    duration = info.get("duration")
    return render(
        request,
        "run.html",
        {
            "record": record,
            "title": str(info.get("title") or record.template),
            "insights": run_insights(info),
            "files": listed,
            "report": report,
            "results": _results(info),
            "duration": duration_text(duration)
            if duration is not None
            else seconds_between(record.started, record.ended),
            "rerunnable": find_notebooklet(record.template) is not None,
        },
    )


def rerun_page(request: Request) -> Response:
    """GET /runs/{template}/{run_id}/rerun: the run form filled in from that run."""
    folder = _folder(request)
    info = _run_info(folder)
    name = str(info.get("template") or folder.parent.name)
    template = find_notebooklet(name)
    if template is None:
        raise _not_found(f"notebooklet {name!r} is no longer in the catalogue")
    rerun_of = f"{folder.parent.name}/{folder.name}"
    return _form_page(request, template, forms.form_from_run(template, info, rerun_of))


def file_page(request: Request) -> Response:
    """GET /files/{path}: a file of a run folder (reports shown, the rest downloaded)."""
    path = files.run_file(_root(request), request.path_params["path"])
    if path is None:
        raise _not_found("no such file in a run folder")
    if path.suffix.lower() == ".ipynb":
        from nbcatalog.lazycharts import draw_file

        # Someone is taking the notebook: the charts its run left undrawn are drawn now.
        with contextlib.suppress(Exception):  # not a readable notebook: served as it is
            draw_file(path)
    return files.file_response(path)
