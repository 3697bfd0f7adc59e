"""`nbcatalog data msticpy-config`: the msticpyconfig.yaml lines for QueryProvider("NBCatalog")."""

from __future__ import annotations

import click


@click.command("msticpy-config")
def msticpy_config() -> None:
    """Print the msticpyconfig.yaml lines that let msticpy load the NBCatalog provider.

    Paste them into your msticpyconfig.yaml; then `msticpy.load_plugins([])` and
    `msticpy.QueryProvider("NBCatalog")` work in any Python, with nbcatalog's query
    names (qp.WindowsSecurity.list_host_logons, ...) on the embedded store.
    """
    from nbcatalog.data.msticpy_driver import msticpy_config_snippet

    click.echo(msticpy_config_snippet(), nl=False)
