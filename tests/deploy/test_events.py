"""events/: the sample events for local invocation have the shapes the handler expects (or,
for malformed.json, deliberately does not)."""

from __future__ import annotations

from datetime import datetime, timedelta

from conftest import load_event

SCHEDULED_EVENT_KEYS = {
    "version",
    "id",
    "detail-type",
    "source",
    "account",
    "time",
    "region",
    "resources",
    "detail",
}


def test_the_scheduled_event_is_shaped_exactly_as_eventbridge_sends_it():
    event = load_event("scheduled.json")

    assert set(event) == SCHEDULED_EVENT_KEYS
    assert event["version"] == "0"
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["time"].endswith("Z")
    assert [arn.split(":")[2] for arn in event["resources"]] == ["events"]
    assert event["detail"] == {}


def test_the_dry_run_event_is_the_scheduled_event_asking_for_a_dry_run():
    scheduled = load_event("scheduled.json")
    dry_run = load_event("dry-run.json")

    assert dry_run["detail"] == {"dry_run": True}
    assert {k: v for k, v in dry_run.items() if k not in ("id", "detail")} == {
        k: v for k, v in scheduled.items() if k not in ("id", "detail")
    }


def test_the_reopen_event_is_the_scheduled_event_asking_to_undo_since_a_utc_instant():
    scheduled = load_event("scheduled.json")
    reopen = load_event("reopen.json")

    assert set(reopen["detail"]) == {"reopen_closed_since"}
    since = datetime.fromisoformat(reopen["detail"]["reopen_closed_since"].replace("Z", "+00:00"))
    assert since.utcoffset() == timedelta(0)
    assert {k: v for k, v in reopen.items() if k not in ("id", "detail")} == {
        k: v for k, v in scheduled.items() if k not in ("id", "detail")
    }


def test_the_malformed_event_is_not_a_scheduled_event():
    event = load_event("malformed.json")

    assert event.get("detail-type") != "Scheduled Event"
    assert event.get("source") != "aws.events"


def test_the_check_event_is_the_scheduled_event_asking_for_the_check():
    scheduled = load_event("scheduled.json")
    check = load_event("check.json")

    assert check["detail"] == {"check": True}
    assert {k: v for k, v in check.items() if k not in ("id", "detail")} == {
        k: v for k, v in scheduled.items() if k not in ("id", "detail")
    }
