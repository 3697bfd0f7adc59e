"""Read what an executed template glued: data values and named displays.

Decoding is scrapbook's, with nbcatalog's encoders registered (plain values with
their types, DataFrames as parquet inline or in ``data/*.parquet`` sidecars).

Example:
    >>> from nbcatalog.harvest import harvest
    >>> h = harvest("output/host_summary/20240501T000000Z-ab12cd/notebook.ipynb")  # doctest: +SKIP
    >>> h.data["related_alerts"].dtypes["TimeGenerated"]                            # doctest: +SKIP
    datetime64[ns, UTC]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from scrapbook.encoders import registry as encoder_registry
from scrapbook.exceptions import ScrapbookMissingEncoder
from scrapbook.schemas import GLUE_PAYLOAD_PREFIX
from scrapbook.scraps import Scrap

from nbcatalog.findings_model import FINDINGS_SCRAP, check_findings, ranked
from nbcatalog.runstate import NO_DATA, OK
from nbcatalog.scraps import OUTCOME_SCRAP, reading_from, scrap_payload


@dataclass
class Harvest:
    """Glued data (name -> value) and displays (name -> the nbformat output shown).

    `outcome` is the data state the template declared (`nblib.outcome`: status
    ``ok`` or ``no_data``, reasons, closest names), None when it declared none.
    `findings` is the template's ``findings`` scrap, checked (`findings_model`),
    None when it glued none.
    """

    data: dict[str, Any] = field(default_factory=dict)
    displays: dict[str, dict[str, Any]] = field(default_factory=dict)
    outcome: dict[str, Any] | None = None
    findings: list[dict[str, Any]] | None = None

    @property
    def status(self) -> str:
        """``no_data`` when the template said its data was not there, else ``ok``."""
        return NO_DATA if self.outcome and self.outcome.get("status") == NO_DATA else OK


def _decode(scrap: Scrap) -> Any:
    """``scrapbook.encoders.registry.decode(scrap).data``, the payload check compiled once.

    The same check as scrapbook's (a scrap comes from the notebook, so from the
    template and its data: it is validated before any encoder reads it), the same
    exceptions; only the schema is no longer re-checked and re-compiled per scrap.
    """
    scrap_payload(scrap.name, scrap.data, scrap.encoder)  # raises as scrapbook does
    encoders = getattr(encoder_registry, "_encoders", None)
    if not isinstance(encoders, dict):  # another scrapbook version: its own path
        return encoder_registry.decode(scrap).data
    loader = encoders.get(scrap.encoder)
    if not loader:
        raise ScrapbookMissingEncoder(f'No encoder found for "{scrap.encoder}" encoder type!')
    return loader.decode(scrap).data


def _scraps(nb: Any) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Glued data (decoded, by name) and display outputs (by name) of `nb`, in cell order.

    What ``scrapbook.read_notebook(...).scraps`` gives, without re-reading the file;
    each payload is checked against scrapbook's schema as scrapbook does, with the
    schema compiled once (`_decode`). A later scrap of the same name wins, as in
    scrapbook.
    """
    data: dict[str, Any] = {}
    displays: dict[str, dict[str, Any]] = {}
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []):
            for mime, payload in output.get("data", {}).items():
                if not mime.startswith(GLUE_PAYLOAD_PREFIX):
                    continue
                if not isinstance(payload, dict) or not {"name", "data", "encoder"} <= set(payload):
                    raise ValueError(f"scrap output {mime!r} is not a scrapbook payload")
                scrap = Scrap(payload["name"], payload["data"], payload["encoder"], None)
                if scrap.encoder != "display":
                    data[scrap.name] = _decode(scrap)
            book = output.get("metadata", {}).get("scrapbook", {})
            if book.get("display") and book.get("name"):
                displays[book["name"]] = dict(output)
    return data, displays


def harvest(notebook_path: str | Path, *, lazy: bool = False, nb: Any = None) -> Harvest:
    """Decode the scraps of an executed notebook; sidecars are read from its folder.

    With `lazy`, frames come back as `SidecarFrame` / `InlineFrame` references
    that `Results` reads or decodes on first access. `nb` is the notebook already
    in memory (the runner's), saving a read of the file.
    """
    notebook_path = Path(notebook_path)
    if nb is None:
        nb = nbformat.read(notebook_path, as_version=4)
    with reading_from(notebook_path.parent, lazy=lazy):
        # Values that decode to None are kept (scrapbook's data_scraps drops them).
        data, displays = _scraps(nb)
    outcome = data.pop(OUTCOME_SCRAP, None)
    if outcome is not None and not isinstance(outcome, dict):
        raise ValueError(f"scrap {OUTCOME_SCRAP!r} must be a dict, got {type(outcome).__name__}")
    # Not a result: the run's conclusions (a malformed list fails the run, naming why).
    # Most severe first everywhere: run.json, Results.findings, --json, the CLI lines.
    findings = (
        [dict(f) for f in ranked(check_findings(data.pop(FINDINGS_SCRAP)))]
        if FINDINGS_SCRAP in data
        else None
    )
    return Harvest(data=data, displays=displays, outcome=outcome, findings=findings)
