"""Glue encoders: values and frames survive the round trip through notebook JSON."""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pandas as pd
import pytest
from scrapbook.encoders import registry
from scrapbook.scraps import Scrap

from nbcatalog.nblib.glue import (
    FRAME_ENCODER,
    VALUE_ENCODER,
    GlueError,
    glue,
    reading_from,
)


def round_trip(value, encoder):
    encoded = registry.encode(Scrap("x", value, encoder))
    stored = json.loads(json.dumps(encoded.data))  # what the notebook file keeps
    return registry.decode(Scrap("x", stored, encoder)).data


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        7,
        "text",
        dt.datetime(2024, 5, 1, 8, 30, tzinfo=dt.timezone.utc),
        dt.datetime(2024, 5, 1, 8, 30),
        dt.date(2024, 5, 1),
        dt.timedelta(hours=2, microseconds=5),
        pd.Timestamp("2024-05-01T08:30:00", tz="Europe/London"),
        (1, "a"),
        {"nested": [1, None, {"when": dt.date(2024, 1, 2)}]},
        {1: "int key"},
    ],
)
def test_values_round_trip_with_their_types(value):
    back = round_trip(value, VALUE_ENCODER)
    assert back == value and type(back) is type(value)


def test_numpy_scalars_and_special_floats():
    assert round_trip(np.int64(3), VALUE_ENCODER) == 3
    assert round_trip(np.float32(0.5), VALUE_ENCODER) == 0.5
    assert math.isnan(round_trip(float("nan"), VALUE_ENCODER))
    assert round_trip(float("-inf"), VALUE_ENCODER) == float("-inf")
    assert round_trip(np.bool_(True), VALUE_ENCODER) is True
    assert round_trip(pd.NaT, VALUE_ENCODER) is pd.NaT


def test_frames_keep_dtypes_and_series_keep_names():
    frame = pd.DataFrame(
        {
            "TimeGenerated": pd.to_datetime(["2024-05-01T08:00:00Z", None], utc=True),
            "Local": pd.to_datetime(["2024-05-01", "2024-05-02"]).tz_localize("Asia/Tokyo"),
            "Count": pd.array([1, None], dtype="Int64"),
            "Kind": pd.Categorical(["a", "b"]),
            "Score": [0.5, float("nan")],
        }
    )
    back = round_trip(frame, FRAME_ENCODER)
    pd.testing.assert_frame_equal(back, frame)
    series = pd.Series([1.5, 2.5], name="score")
    pd.testing.assert_series_equal(round_trip(series, FRAME_ENCODER), series)


def test_mixed_object_columns_become_text_instead_of_failing():
    frame = pd.DataFrame({"Mixed": [{"a": 1}, "plain", 3], 5: ["x", "y", "z"]})
    back = round_trip(frame, FRAME_ENCODER)
    assert list(back.columns) == ["Mixed", "5"]
    assert back["Mixed"].tolist() == ["{'a': 1}", "plain", "3"]


def test_sidecar_needs_the_run_folder_and_stays_inside_it(tmp_path):
    stored = {"kind": "frame", "rows": 0, "columns": [], "sidecar": "data/x.parquet"}
    with pytest.raises(GlueError, match="harvest"):
        registry.decode(Scrap("x", stored, FRAME_ENCODER))
    evil = dict(stored, sidecar="../../etc/passwd")
    with reading_from(tmp_path), pytest.raises(GlueError, match="stay in the run folder"):
        registry.decode(Scrap("x", evil, FRAME_ENCODER))


def test_glue_rejects_bad_names_before_anything_is_shown():
    with pytest.raises(GlueError, match="identifier"):
        glue("not a name", 1)


@pytest.mark.parametrize(
    "value",
    [
        {"host": "WKSTN-042", "when": dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)},
        pd.DataFrame({"Account": ["bob", "<script>"], "Count": [3, 1]}),
    ],
)
def test_glue_shows_exactly_what_scrapbook_glue_shows(monkeypatch, value):
    """glue() builds scrapbook's output itself (the schema checked once): same bundle."""
    import IPython.display
    import scrapbook as sb

    shown: list[tuple] = []
    monkeypatch.setattr(
        IPython.display, "display", lambda *a, **k: shown.append((json.dumps(a), k))
    )
    glue("x", value)
    ours = list(shown)
    shown.clear()
    name = FRAME_ENCODER if isinstance(value, pd.DataFrame) else VALUE_ENCODER
    with pytest.warns(UserWarning, match="No kernel"):
        sb.glue("x", value, encoder=name)
    assert ours == shown and len(ours) == 1


def test_glue_refuses_what_scrapbook_refuses():
    from scrapbook.exceptions import ScrapbookDataException

    from nbcatalog.scraps import scrap_payload

    with pytest.raises(ScrapbookDataException, match="do not conform"):
        scrap_payload(["not", "a", "name"], 1, "json")
