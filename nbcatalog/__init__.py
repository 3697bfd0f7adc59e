"""nbcatalog: a catalogue of parameterized Jupyter notebooks for security operations."""

__version__ = "0.1.0"
