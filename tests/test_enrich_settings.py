"""The [enrichment] config: read from nbcatalog's config file, checked, overridable per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from nbcatalog.enrich.errors import EnrichmentError
from nbcatalog.enrich.settings import (
    EnrichmentSettings,
    configure,
    current_settings,
    parse_settings,
)

pytest_plugins = ["enrich_support"]  # isolated_config
pytestmark = pytest.mark.usefixtures("isolated_config")


def write_config(monkeypatch, tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("NBCATALOG_CONFIG", str(path))
    return path


def test_no_config_file_means_everything_offline():
    settings = current_settings()
    assert settings == EnrichmentSettings()
    assert settings.geoip.provider == "offline"
    assert settings.ti.providers == ()
    assert settings.ti.table is True
    assert settings.ti.lookback_days == 365


def test_the_config_file_switches_providers_on(monkeypatch, tmp_path):
    write_config(
        monkeypatch,
        tmp_path,
        'data_source = "duckdb:/tmp/x.duckdb"\n'
        "[enrichment.geoip]\n"
        'provider = "maxmind"\n'
        'maxmind_db_folder = "~/GeoLite2"\n'
        'asn_db = "/data/GeoLite2-ASN.mmdb"\n'
        "[enrichment.ti]\n"
        'providers = ["VirusTotal", "OTX"]\n'
        "lookback_days = 30\n",
    )
    settings = current_settings()
    assert settings.geoip.provider == "maxmind"
    assert settings.geoip.maxmind_db_folder == Path.home() / "GeoLite2"
    assert settings.geoip.asn_db == Path("/data/GeoLite2-ASN.mmdb")
    assert settings.geoip.maxmind_auto_update is False
    assert settings.ti.providers == ("VirusTotal", "OTX")
    assert settings.ti.lookback_days == 30


def test_configure_wins_over_the_file_until_reset(monkeypatch, tmp_path):
    write_config(monkeypatch, tmp_path, '[enrichment.ti]\nproviders = ["OTX"]\n')
    assert current_settings().ti.providers == ("OTX",)
    configure({"ti": {"providers": []}})
    assert current_settings().ti.providers == ()
    configure(None)
    assert current_settings().ti.providers == ("OTX",)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"geoip": {"provder": "maxmind"}}, "unknown setting 'provder'; did you mean 'provider'"),
        ({"geoip": {"provider": "ipinfo"}}, "'ipinfo' is not a GeoIP provider"),
        ({"ti": {"providers": "OTX"}}, "must be a list of msticpy TI provider names"),
        ({"ti": {"providers": ["OTX", 3]}}, "must be a list"),
        ({"ti": {"lookback_days": 0}}, "lookback_days must be a whole number"),
        ({"ti": {"lookback_days": "30"}}, "lookback_days must be a whole number"),
        ({"ti": {"table": "yes"}}, "ti.table must be true or false"),
        ({"geoip": {"maxmind_auto_update": 1}}, "must be true or false"),
        ({"geoip": {"asn_db": 5}}, "must be a path as text"),
        ({"threatintel": {}}, "unknown setting 'threatintel'"),
        ({"ti": ["OTX"]}, "must be a table of settings"),
    ],
)
def test_bad_settings_are_clear_errors_never_ignored(table, message):
    with pytest.raises(EnrichmentError, match=message.replace("(", r"\(")):
        parse_settings(table)
    with pytest.raises(EnrichmentError):
        configure(table)


def test_a_bad_file_is_reported_when_enrichment_runs(monkeypatch, tmp_path):
    path = write_config(monkeypatch, tmp_path, '[enrichment.ti]\nprovider = ["OTX"]\n')
    with pytest.raises(EnrichmentError, match="did you mean 'providers'") as caught:
        current_settings()
    assert "config file" in str(caught.value)
    path.write_text("[enrichment\nbroken", encoding="utf-8")
    with pytest.raises(Exception, match="TOML|cannot be read"):
        current_settings()
