"""Harvest checks every scrap payload against scrapbook's schema before decoding it."""

from __future__ import annotations

import nbformat
import pytest
from scrapbook.exceptions import ScrapbookDataException, ScrapbookMissingEncoder

from nbcatalog.harvest import harvest


def notebook_with(payload: dict, tmp_path) -> tuple[nbformat.NotebookNode, str]:
    cell = nbformat.v4.new_code_cell("glue()")
    mime = f"application/scrapbook.scrap.{payload.get('encoder')}+json"
    cell.outputs = [nbformat.v4.new_output("display_data", data={mime: payload})]
    nb = nbformat.v4.new_notebook(cells=[cell])
    return nb, str(tmp_path / "notebook.ipynb")


def test_a_well_formed_scrap_is_decoded(tmp_path):
    nb, path = notebook_with({"name": "count", "data": 3, "encoder": "json"}, tmp_path)
    assert harvest(path, nb=nb).data == {"count": 3}


@pytest.mark.parametrize(
    "payload",
    [
        {"name": "x", "data": 1, "encoder": 5},  # encoder must be text
        {"name": ["x"], "data": 1, "encoder": "json"},  # so must the name (a list here)
        {"name": 7, "data": 1, "encoder": "json"},
    ],
)
def test_a_scrap_outside_the_schema_is_refused(tmp_path, payload):
    nb, path = notebook_with(payload, tmp_path)
    with pytest.raises((ScrapbookDataException, ValueError)):
        harvest(path, nb=nb)


def test_a_scrap_with_an_unknown_encoder_is_refused(tmp_path):
    nb, path = notebook_with({"name": "x", "data": "rm -rf /", "encoder": "shell"}, tmp_path)
    with pytest.raises(ScrapbookMissingEncoder, match="shell"):
        harvest(path, nb=nb)
