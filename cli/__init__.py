"""The `nbcatalog` command line."""
