"""msticpy plugin module: registers the data environment ``NBCatalog`` with msticpy.

This folder is a msticpy plugin folder and a query-definition folder at once. In
msticpyconfig.yaml (``nbcatalog data msticpy-config`` prints the lines with this
folder's path)::

    PluginFolders:
      - <this folder>
    QueryDefinitions:
      Custom:
        - <this folder>

then, in any Python with msticpy and nbcatalog installed::

    import msticpy
    msticpy.load_plugins([])              # reads PluginFolders from msticpyconfig
    qp = msticpy.QueryProvider("NBCatalog")
    qp.connect()                          # the store at $NBCATALOG_DB, or connect(path)
    qp.WindowsSecurity.list_host_logons(host_name="WKSTN-042", start=..., end=...)

msticpy imports every ``*.py`` file of a plugin folder and registers each concrete
`DriverBase` subclass it finds under its ``DATA_ENVIRONMENTS``: this module holds
exactly one, so nothing else is registered.
"""

from nbcatalog.data.msticpy_driver import NBCatalogDriver

__all__ = ["NBCatalogDriver"]
