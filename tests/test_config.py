"""Session and machine defaults: init() > environment > config file > built-in."""

from __future__ import annotations

from pathlib import Path

import pytest

import nbcatalog
from nbcatalog import config
from nbcatalog.errors import ParameterError, UsageError


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("NBCATALOG_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.delenv("NBCATALOG_SOURCE", raising=False)
    monkeypatch.delenv("NBCATALOG_OUTPUT", raising=False)
    monkeypatch.delenv("NBCATALOG_DB", raising=False)
    config.reset()
    yield
    config.reset()


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_built_in_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("NBCATALOG_DB", str(tmp_path / "store.duckdb"))
    assert config.default_data_source() == f"duckdb:{tmp_path / 'store.duckdb'}"
    assert config.default_output_dir() == Path("output")


def test_precedence_init_over_env_over_file(monkeypatch, tmp_path):
    write_config(tmp_path, 'data_source = "msticpy:LocalData"\noutput_dir = "reports"\n')
    assert config.default_data_source() == "msticpy:LocalData"
    # relative output_dir is relative to the config file, not to the current folder
    assert config.default_output_dir() == tmp_path / "reports"

    monkeypatch.setenv("NBCATALOG_SOURCE", "msticpy:MSSentinel")
    monkeypatch.setenv("NBCATALOG_OUTPUT", str(tmp_path / "env-out"))
    assert config.default_data_source() == "msticpy:MSSentinel"
    assert config.default_output_dir() == tmp_path / "env-out"

    nbcatalog.init(data_source=f"duckdb:{tmp_path / 'mine.duckdb'}", output_dir=tmp_path / "s")
    assert config.default_data_source() == f"duckdb:{tmp_path / 'mine.duckdb'}"
    assert config.default_output_dir() == tmp_path / "s"
    nbcatalog.init(output_dir=tmp_path / "t")  # None keeps the data source
    assert config.default_data_source() == f"duckdb:{tmp_path / 'mine.duckdb'}"


def test_init_rejects_a_bad_spec():
    with pytest.raises(ParameterError, match="is not a data source"):
        nbcatalog.init(data_source="sentinel please")


def test_bad_config_files_name_the_file_and_the_problem(tmp_path):
    path = write_config(tmp_path, "data_source = \n")
    with pytest.raises(UsageError, match=f"config file {path}: not valid TOML"):
        config.default_data_source()
    write_config(tmp_path, 'data_sorce = "msticpy:LocalData"\n')
    with pytest.raises(UsageError, match="unknown key 'data_sorce'; did you mean 'data_source'"):
        config.load_config()
    write_config(tmp_path, "output_dir = 5\n")
    with pytest.raises(UsageError, match="'output_dir' must be a string"):
        config.load_config()
    write_config(tmp_path, 'data_source = "nonsense"\n')
    with pytest.raises(ParameterError, match="accepted: 'duckdb:PATH'"):
        config.default_data_source()


def test_enrichment_table_is_reserved_for_enrich(tmp_path):
    write_config(tmp_path, '[enrichment]\ngeoip_db = "/data/GeoLite2-City.mmdb"\n')
    assert config.enrichment_settings() == {"geoip_db": "/data/GeoLite2-City.mmdb"}
    write_config(tmp_path, 'enrichment = "x"\n')
    with pytest.raises(UsageError, match="'enrichment' must be a table"):
        config.enrichment_settings()


def test_missing_file_means_no_settings(tmp_path):
    assert config.load_config() == {}
    assert config.enrichment_settings() == {}


def test_relative_store_path_in_config_is_relative_to_the_file(tmp_path, monkeypatch):
    write_config(tmp_path, 'data_source = "duckdb:stores/soc.duckdb"\n')
    monkeypatch.chdir("/")
    assert config.default_data_source() == f"duckdb:{tmp_path / 'stores' / 'soc.duckdb'}"
