"""The demo's warning before the close and closing message: the settings `make demo` runs the
function with on the sample org, and the part of --check-demo that proves the message rows.

The expectation is worked out here again from the sample data and the rules in
docs/operating.md ("Warn before closing"), not read back from the function's summary: a session
is warned when its configuration's timeout is longer than the lead, it becomes eligible within
the lead, and its customer wrote less than 24 hours ago; a closed session gets the closing
message when its customer wrote less than 24 hours before the close.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from localstack import StepError

LEAD_MINUTES = 25
WARNING_TEXT = "Are you still there? This chat closes soon unless you write."
CLOSING_TEXT = "This chat is now closed. Write to us again any time."
MESSAGE_TABLE = "w4d_whatsappmessages"
WINDOW = timedelta(hours=24)

# The sample org's message table and warned-at column (dataverse-sim's demo org).
ENVIRONMENT = {
    "WARNING_LEAD": f"{LEAD_MINUTES} minutes",
    "SESSION_WARNED_AT_COLUMN": "w4d_warnedon",
    "WARNING_MESSAGE_TEXT": WARNING_TEXT,
    "CLOSING_MESSAGE_TEXT": CLOSING_TEXT,
    "MESSAGE_TABLE": MESSAGE_TABLE,
    "MESSAGE_SESSION_NAVIGATION": "w4d_ChatSession",
    "MESSAGE_TEXT_COLUMN": "w4d_body",
    "MESSAGE_FIXED_VALUES": '{"w4d_direction": 100000001}',
}


def _time(text: object) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def expected(before: list[dict], configurations: list[dict], closed: set[str], now: datetime) -> tuple[set[str], set[str]]:
    """The sessions due a warning at `now`, and the closed sessions due the closing message."""
    lead = timedelta(minutes=LEAD_MINUTES)
    timeouts = {
        row["w4d_whatsappconfigurationid"]: timedelta(minutes=row["w4d_sessiontimeout"])
        for row in configurations
        if row.get("statecode") == 0 and isinstance(row.get("w4d_sessiontimeout"), (int, float))
    }
    warned, closing = set(), set()
    for row in before:
        if row.get("statecode") != 0:
            continue
        session = row["w4d_chatsessionid"]
        customer = _time(row.get("w4d_lastcustomermessageon"))
        inside = customer is not None and customer <= now < customer + WINDOW
        if session in closed:
            if inside:
                closing.add(session)
            continue
        timeout = timeouts.get(row.get("_w4d_configurationid_value"))
        if timeout is None or timeout <= lead or customer is None:
            continue
        eligible = customer + timeout
        if eligible - lead <= now < eligible and inside:
            warned.add(session)
    return warned, closing


def check(before: list[dict], configurations: list[dict], messages: list[dict], closed: set[str], summary: dict) -> str:
    """Raises unless the message rows are exactly one warning per session due one and one
    closing message per close inside the window; returns the line that says so."""
    now = _time(summary.get("evaluated_at"))
    if now is None:
        raise StepError("--check-demo: the summary has no evaluated_at")
    warned, closing = expected(before, configurations, closed, now)
    by_text: dict[str, list[str]] = {WARNING_TEXT: [], CLOSING_TEXT: []}
    for row in messages:
        by_text.setdefault(row.get("w4d_body"), []).append(row.get("_w4d_chatsession_value"))
    problems = []
    for what, text, want in (("warning", WARNING_TEXT, warned), ("closing message", CLOSING_TEXT, closing)):
        got = by_text.pop(text)
        if sorted(got) != sorted(want):
            problems.append(f"{what} rows for {sorted(got)}, expected one each for {sorted(want)}")
    if any(by_text.values()):
        problems.append(f"unexpected message rows: {by_text}")
    reported = {entry["id"] for entry in summary.get("warned_sessions", [])}
    if reported != warned or summary.get("warned") != len(warned):
        problems.append(f"the summary reports warned={summary.get('warned')} {sorted(reported)}; expected {sorted(warned)}")
    outside = len(closed) - len(closing)
    if summary.get("closing_messages_outside_window") != outside:
        problems.append(
            f"closing_messages_outside_window={summary.get('closing_messages_outside_window')}, expected {outside}"
        )
    if problems:
        raise StepError("the demo's messages are not what the sample org expects:\n    " + "\n    ".join(problems))
    return (
        f"check: {len(warned)} warnings and {len(closing)} closing messages created, one each, "
        f"and {outside} closes outside the 24-hour window made without one"
    )
