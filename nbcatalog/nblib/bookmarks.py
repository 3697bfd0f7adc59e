"""Hunting bookmarks that name a host or an account.

Runs msticpy's `AzureSentinel.list_bookmarks_for_entity` (a loose text match on
the bookmarked row) and keeps the bookmarks whose row, entities, name or notes
really name the entity, so `bob` does not bring back bookmarks about `bobby.jones`.

Example (in a template):
    bookmarks = nblib.bookmarks.related_bookmarks(inv, host="WKSTN-042")
    glue("related_bookmarks", bookmarks.data)
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from nbcatalog.nblib.entities import AccountName, account_matches, host_matches, mentions
from nbcatalog.nblib.findings import Finding

BOOKMARK_COLUMNS = ["EventTime", "BookmarkName", "CreatedBy", "Notes", "Tags", "QueryResultRow"]
# Fields a bookmark names its subject in.
_SEARCHED = ("QueryResultRow", "Entities", "Computer", "Account", "BookmarkName", "Notes")


def bookmark_names(bookmark: dict[str, Any], matcher) -> bool:
    """True when any searched field of `bookmark` names the entity `matcher` accepts.

    Example:
        >>> bm = {"QueryResultRow": '{"Account": "CONTOSO\\\\\\\\bob"}', "Notes": "RDP"}
        >>> bookmark_names(bm, lambda s: account_matches("bob", s))
        True
    """
    return any(mentions(bookmark.get(f), matcher) for f in _SEARCHED if bookmark.get(f))


def related_bookmarks(
    inv: Any,
    *,
    host: str | None = None,
    account: str | None = None,
    ip: str | None = None,
) -> Finding:
    """Bookmarks in the time range that name `host`, `account` or `ip` (give one)."""
    title = "Related bookmarks"
    query = "AzureSentinel.list_bookmarks_for_entity"
    if host:
        finding = inv.query(query, title=title, host_name=host)
        matcher = lambda s: host_matches(host, s)  # noqa: E731 - one-line predicate
    elif account:
        bare = AccountName.parse(account).user or account
        finding = inv.query(query, title=title, account_name=bare)
        matcher = lambda s: account_matches(account, s)  # noqa: E731
    elif ip:
        finding = inv.query(query, title=title, ip_address=ip)
        matcher = lambda s: s.strip() == ip.strip()  # noqa: E731
    else:
        finding = Finding(title)
        finding.note(
            "skipped", "no host, account or IP address selected, so no bookmarks were searched"
        )
        return finding
    return keep_naming(finding, matcher, host or account or ip, inv.period)


def keep_naming(finding: Finding, matcher: Any, subject: str, period: Any) -> Finding:
    """Keep the bookmarks of a query `finding` that `bookmark_names` with `matcher`.

    The query matches loosely; this is the exact check. With none left (and no note
    from the query) one info note says no bookmark names `subject` in `period`.

    Example:
        >>> f = Finding("Related bookmarks", pd.DataFrame({"Notes": ["bob", "bobby"]}))
        >>> keep_naming(f, lambda s: s == "bob", "bob", "the last day").data["Notes"].tolist()
        ['bob']
    """
    finding.columns = BOOKMARK_COLUMNS
    if not finding.empty:
        keep = [bookmark_names(rec, matcher) for rec in finding.data.to_dict("records")]
        finding.data = finding.data[pd.Series(keep, index=finding.data.index, dtype=bool)]
        finding.data = finding.data.reset_index(drop=True)
    if finding.empty and not finding.notes:
        finding.note("info", f"no bookmarks name {subject} in {period}")
    return finding
