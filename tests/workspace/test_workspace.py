"""The workspace: edits with their audit records, revert, "as published on", and SIGKILL.

No evidence store is needed: the network is a small one made here.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from keycities.errors import KeycitiesError, UnknownPlaceError
from keycities.geography.names import Place
from keycities.network.register import Membership, Network, Snapshot
from keycities.workspace import edits
from keycities.workspace.db import Workspace


class Known:
    """A resolver that knows a few GSS codes, in every vintage."""

    def __init__(self, codes: set[str]) -> None:
        self.codes = codes

    def resolve(self, query: str, *, vintage: int | None = None) -> Place:
        if query not in self.codes:
            raise UnknownPlaceError(query, [])
        return Place(query, f"Council {query}", None, None, "England", None, "code")


KNOWN = Known({"E06000001", "E06000002", "E06000003", "E06000004"})


def network() -> Network:
    return Network(id="demo", name="Demo", memberships=(
        Membership("E06000001", "Hartlepool", dt.date(2020, 1, 1), None),
        Membership("E06000002", "Middlesbrough", dt.date(2020, 1, 1), dt.date(2023, 1, 1)),
    ))


def codes(net: Network, at: dt.date) -> set[str]:
    return set(net.members_at(at)["code"])


def test_edits_change_the_register_and_each_leaves_its_record(tmp_path: Path) -> None:
    ws, net = Workspace(tmp_path / "w.sqlite"), network()
    assert edits.edited(ws, net) is net  # nothing copied until the first edit
    mid = edits.add_membership(ws, net, {"code": "E06000003", "joined": "2024-05-01"},
                               user="ed", resolver=KNOWN)
    now = edits.edited(ws, net)
    assert codes(now, dt.date(2025, 1, 1)) == {"E06000001", "E06000003"}
    edits.update_membership(ws, net, mid, {"left": "2025-03-01"}, user="ed", resolver=KNOWN)
    assert codes(edits.edited(ws, net), dt.date(2025, 6, 1)) == {"E06000001"}
    trail = ws.changes()
    assert [c.action for c in trail] == ["update", "add"]
    assert trail[0].before["left"] is None and trail[0].after["left"] == "2025-03-01"
    assert all(c.user == "ed" for c in trail)


@pytest.mark.parametrize(("values", "says"), [
    ({"code": "W99999999"}, "Unknown place"),
    ({"code": "E06000003", "joined": "2024-13-01"}, "not a date"),
    ({"code": "E06000003", "joined": "2024-05-01", "left": "2024-01-01"}, "not after joined"),
])
def test_bad_edits_are_refused_and_leave_no_trace(tmp_path: Path, values: dict[str, str],
                                                  says: str) -> None:
    ws = Workspace(tmp_path / "w.sqlite")
    with pytest.raises(KeycitiesError, match=says):
        edits.add_membership(ws, network(), values, user="ed", resolver=KNOWN)
    assert ws.changes() == []


def test_revert_undoes_in_order_and_refuses_an_overtaken_change(tmp_path: Path) -> None:
    ws, net = Workspace(tmp_path / "w.sqlite"), network()
    mid = edits.add_membership(ws, net, {"code": "E06000004"}, user="ed", resolver=KNOWN)
    edits.update_membership(ws, net, mid, {"joined": "2021-01-01"}, user="ed", resolver=KNOWN)
    add, update = ws.changes()[1], ws.changes()[0]
    with pytest.raises(edits.RevertError, match=f"revert that first|change {update.id}"):
        edits.revert(ws, add.id, user="ad")
    edits.revert(ws, update.id, user="ad")
    edits.revert(ws, add.id, user="ad")
    assert codes(edits.edited(ws, net), dt.date(2025, 1, 1)) == {"E06000001"}
    with pytest.raises(edits.RevertError, match="already reverted"):
        edits.revert(ws, add.id, user="ad")
    # a revert is itself in the trail, pointing at what it reverted
    assert [c.reverts for c in ws.changes()[:2]] == [add.id, update.id]


def test_register_at_a_past_moment(tmp_path: Path) -> None:
    ws, net = Workspace(tmp_path / "w.sqlite"), network()
    edits.add_membership(ws, net, {"code": "E06000003", "joined": "2021-01-01"}, user="ed",
                         resolver=KNOWN)
    time.sleep(0.01)
    middle = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
    time.sleep(0.01)
    rows = edits.register_rows(ws, net)
    first = next(r for r in rows if r["code"] == "E06000001")
    edits.delete_membership(ws, net, first["id"], user="ed")
    edits.add_membership(ws, net, {"code": "E06000004", "joined": "2021-01-01"}, user="ed",
                         resolver=KNOWN)
    at = dt.date(2022, 1, 1)
    assert codes(edits.edited(ws, net), at) == {"E06000002", "E06000003", "E06000004"}
    assert codes(edits.register_at(ws, net, middle), at) == {"E06000001", "E06000002",
                                                            "E06000003"}
    assert edits.register_at(ws, net, "2000-01-01") is net  # before any edit: as shipped


def test_proposals_saved_withdrawn_and_restored(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "w.sqlite")
    pid = edits.save_proposal(ws, "twinning", "North-South", {"min_km": 150}, user="ed")
    edits.delete_proposal(ws, pid, user="ed")
    assert edits.proposals(ws) == []
    edits.revert(ws, ws.changes()[0].id, user="ed")
    assert [p["name"] for p in edits.proposals(ws)] == ["North-South"]
    with pytest.raises(KeycitiesError, match="name"):
        edits.save_proposal(ws, "twinning", " ", {}, user="ed")


WRITER = textwrap.dedent("""
    import datetime as dt, random, sys
    from keycities.network.register import Membership, Network, Snapshot
    from keycities.workspace import edits
    from keycities.workspace.db import Workspace
    net = Network(id="demo", name="Demo", memberships=(
        Membership("E06000001", "Hartlepool", dt.date(2020, 1, 1), None),))
    from keycities.errors import KeycitiesError
    from keycities.geography.names import Place
    class Known:
        def resolve(self, query, *, vintage=None):
            return Place(query, query, None, None, "England", None, "code")
    known = {f"E0600{i:04d}" for i in range(1, 100)}
    resolver = Known()
    ws = Workspace(sys.argv[1])
    rng = random.Random(int(sys.argv[2]))
    print("ready", flush=True)
    while True:
        rows = [r for r in edits.register_rows(ws, net) if r["id"]]
        move = rng.random()
        try:  # a council listed twice with overlapping dates is refused
            if move < 0.5 or not rows:
                edits.add_membership(ws, net, {"code": rng.choice(sorted(known)),
                                               "joined": "2021-01-01"}, user="w",
                                     resolver=resolver)
            elif move < 0.8:
                r = rng.choice(rows)
                edits.update_membership(ws, net, r["id"],
                                        {"left": f"20{rng.randint(22, 30)}-01-01"},
                                        user="w", resolver=resolver)
        except KeycitiesError:
            continue
        if 0.8 <= move < 0.9 and rows:
            edits.delete_membership(ws, net, rng.choice(rows)["id"], user="w")
        elif move >= 0.9:
            done = [c for c in ws.changes(limit=20) if not c.reverted_by and c.action != "revert"]
            if done:
                try:
                    edits.revert(ws, done[0].id, user="w")
                except edits.RevertError:
                    pass
""")


def _consistent(path: Path) -> int:
    """Check that the register and the audit trail agree; return the number of changes."""
    ws = Workspace(path)
    assert ws.integrity() == "ok"
    rows = {r["id"]: dict(r) for r in ws.query("SELECT * FROM memberships")}
    latest: dict[int, dict[str, object] | None] = {}
    for c in reversed(ws.changes(limit=1_000_000)):  # oldest first
        latest[int(c.entity_id)] = c.after
    for mid, state in latest.items():
        if state is None:
            assert mid not in rows, f"membership {mid} deleted in the trail but present"
        else:
            got = {k: rows[mid][k] for k in state}
            assert got == state, f"membership {mid}: {got} != trail {state}"
    # every row the trail does not mention is a seeded one (id below the first change's)
    seeded = [m for m in rows if m not in latest]
    assert len(seeded) <= 1
    n = len(ws.changes(limit=1_000_000))
    ws.close()
    return n


def test_sigkill_during_edits_never_breaks_the_workspace(tmp_path: Path) -> None:
    path = tmp_path / "w.sqlite"
    rng = random.Random(7)
    total = 0
    for round_ in range(8):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(round_)],
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.05, 0.6))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        n = _consistent(path)
        assert n >= total, "changes were lost"
        total = n
    assert total > 20, f"too few edits happened to test anything ({total})"


def test_the_consistency_check_catches_a_change_without_its_record(tmp_path: Path) -> None:
    ws, net = Workspace(tmp_path / "w.sqlite"), network()
    mid = edits.add_membership(ws, net, {"code": "E06000003"}, user="ed", resolver=KNOWN)
    with ws.transaction() as con:  # a write that skips the audit trail
        con.execute("UPDATE memberships SET joined = '2019-01-01' WHERE id = ?", (mid,))
    ws.close()
    with pytest.raises(AssertionError, match=f"membership {mid}"):
        _consistent(tmp_path / "w.sqlite")


def documented() -> Network:
    """A network whose earliest documented member list is in force from 2021-01-01."""
    snap = Snapshot("d1", "First list", dt.date(2021, 1, 1), "", ("E06000001",))
    return Network(id="doc", name="Documented", snapshots=(snap,), memberships=(
        Membership("E06000001", "Hartlepool", dt.date(2021, 1, 1), None),))


@pytest.mark.parametrize(("values", "says"), [
    ({"code": "E06000001"}, "already listed"),  # a member already
    ({"code": "E06000001", "joined": "2024-01-01"}, "already listed"),
    ({"code": "E06000003", "joined": "2019-06-01"}, "before 2021-01-01, the earliest "
                                                    "documented member list"),
    ({"code": "E06000003", "joined": "0001-01-01"}, "before 2021-01-01"),
    ({"code": "E06000003", "joined": "2022-01-01", "left": "0001-01-01"}, "before"),
])
def test_edits_are_checked_by_the_network_file_rules(tmp_path: Path, values: dict[str, str],
                                                     says: str) -> None:
    ws = Workspace(tmp_path / "w.sqlite")
    with pytest.raises(KeycitiesError, match=says):
        edits.add_membership(ws, documented(), values, user="ed", resolver=KNOWN)
    assert ws.changes() == []
    assert len(edits.edited(ws, documented(), KNOWN).memberships) == 1


def test_an_update_that_makes_a_duplicate_is_refused(tmp_path: Path) -> None:
    ws, net = Workspace(tmp_path / "w.sqlite"), documented()
    first = edits.add_membership(ws, net, {"code": "E06000003", "joined": "2022-01-01",
                                           "left": "2023-01-01"}, user="ed", resolver=KNOWN)
    edits.add_membership(ws, net, {"code": "E06000003", "joined": "2023-01-01"}, user="ed",
                         resolver=KNOWN)  # rejoined the day it left: no overlap
    with pytest.raises(KeycitiesError, match="already listed"):
        edits.update_membership(ws, net, first, {"left": "2024-01-01"}, user="ed",
                                resolver=KNOWN)
    assert len(ws.changes()) == 2


def test_a_corrupt_stored_register_is_read_with_its_bad_rows_left_out(tmp_path: Path) -> None:
    ws, net = Workspace(tmp_path / "w.sqlite"), documented()
    edits.add_membership(ws, net, {"code": "E06000003", "joined": "2022-01-01"}, user="ed",
                         resolver=KNOWN)
    with ws.transaction() as con:  # rows no edit can make: as if the file were changed by hand
        for code, joined in (("E06000002", "0001-01-01"), ("E06000004", "2019-01-01"),
                             ("E06000003", "2023-01-01"), ("E06000004", "not a date")):
            con.execute("INSERT INTO memberships (network, code, as_published, joined) "
                        "VALUES (?, ?, ?, ?)", (net.id, code, code, joined))
    read = edits.edited(ws, net, KNOWN)
    assert [m.code for m in read.memberships] == ["E06000001", "E06000003"]
    assert len(read.problems) == 4
    assert any("already listed" in p for p in read.problems)
    assert codes(read, dt.date(2024, 1, 1)) == {"E06000001", "E06000003"}
