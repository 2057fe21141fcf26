"""The workload played into one dataverse-sim in virtual time: the configurations and the
sessions open when the day starts, then, before each invocation, every message that arrived
since the last one (through the simulator's admin endpoints, which no counter sees), and the
simulator's clock set to the invocation's moment. Messages to a session a strategy closed are
dropped, as WhatsApp4Dynamics starts a new session for them.

Sessions that were eligible before the day starts are left out: every strategy runs at the
first second of the day, so in steady state it has closed them already.
"""

from __future__ import annotations

from .keepalive import KeepAlive
from .workload import Configuration, Session, stamp

SESSIONS = "w4d_chatsessions"
CONFIGURATIONS = "w4d_whatsappconfigurations"
CUSTOMER_COLUMN = "w4d_lastcustomermessageon"
AGENT_COLUMN = "w4d_lastagentmessageon"
CHUNK = 5000


def session_row(session: Session, t: float) -> dict:
    """The session's row as Dataverse holds it at second `t`."""
    state = session.state_at(t)
    return {
        "w4d_chatsessionid": session.id,
        "w4d_name": f"Session {session.id[-6:]}",
        "_w4d_configurationid_value": session.configuration.id,
        "createdon": stamp(session.opened),
        CUSTOMER_COLUMN: stamp(state["customer"]) if state["customer"] is not None else None,
        AGENT_COLUMN: stamp(state["agent"]) if state["agent"] is not None else None,
        "statecode": 0,
        "statuscode": 1,
    }


def _change(session: Session, t: int, kind: str) -> dict:
    return {"w4d_chatsessionid": session.id, CUSTOMER_COLUMN if kind == "customer" else AGENT_COLUMN: stamp(t)}


def in_play(session: Session) -> bool:
    """False for a session that was eligible before the day starts (closed by then)."""
    if session.opened >= 0:
        return True
    intervals = session.eligible_intervals()
    return not (intervals and intervals[0][0] < 0)


def plan(sessions: list[Session]) -> tuple[list[dict], list[tuple[int, dict]]]:
    """The rows open at second 0, and every later change as (second, row), in order."""
    initial: list[dict] = []
    changes: list[tuple[int, dict]] = []
    for session in sessions:
        if not in_play(session):
            continue
        if session.opened < 0:
            initial.append(session_row(session, 0))
            changes += [(t, _change(session, t, kind)) for t, kind in session.events() if t > 0]
        else:
            changes.append((session.opened, session_row(session, session.opened)))
            changes += [(t, _change(session, t, kind)) for t, kind in session.events() if t > session.opened]
    changes.sort(key=lambda change: change[0])
    return initial, changes


class Timeline:
    """One simulator's view of the workload, advanced to each invocation's moment."""

    def __init__(self, sim: KeepAlive, sessions: list[Session], configurations: tuple[Configuration, ...]) -> None:
        self.sim = sim
        self.configurations = configurations
        self.initial, self.changes = plan(sessions)
        self.next = 0
        self.now: int | None = None

    def start(self) -> None:
        """The configurations and the sessions open at second 0; the clock at second 0."""
        self.set_clock(0)
        rows = [{"w4d_whatsappconfigurationid": c.id, "w4d_name": c.name, "w4d_sessiontimeout": c.timeout_minutes,
                 "statecode": 0, "statuscode": 1} for c in self.configurations]
        self._post(CONFIGURATIONS, rows)
        self._post(SESSIONS, self.initial)
        self.advance(0)

    def advance(self, t: int) -> None:
        """Applies every change up to and including second `t`, then sets the clock to `t`."""
        end = self.next
        while end < len(self.changes) and self.changes[end][0] <= t:
            end += 1
        batch = [row for _, row in self.changes[self.next:end]]
        self.next = end
        for offset in range(0, len(batch), CHUNK):
            # The clock first: a session inserted now is created now, and its messages keep their own times.
            self.set_clock(t)
            self._post(SESSIONS, batch[offset:offset + CHUNK])
        self.set_clock(t)

    def set_clock(self, t: int) -> None:
        if self.now != t:
            self.sim.json("POST", "/_sim/clock", body={"now": stamp(t)})
            self.now = t

    def _post(self, entity_set: str, rows: list[dict]) -> None:
        if rows:
            self.sim.json("POST", "/_sim/changes", body={"entity_set": entity_set, "rows": rows, "active_only": True})
