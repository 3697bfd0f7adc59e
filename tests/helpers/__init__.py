"""Test helpers that write real file formats (no network, no fixtures shipped)."""
