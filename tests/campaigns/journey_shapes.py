"""Journey definitions for the builder's tests: small hand-made ones and a large generated one."""

from __future__ import annotations


def send(step_id: str, next_: str | None = None, **extra) -> dict:
    return {
        "id": step_id,
        "type": "send",
        "name": f"Send {step_id}",
        "template_id": 1,
        "channel": "best",
        "on_unreachable": "continue",
        "next": next_,
        **extra,
    }


def wait(step_id: str, next_: str | None = None, seconds: int = 3600) -> dict:
    return {"id": step_id, "type": "wait", "mode": "duration", "seconds": seconds, "next": next_}


def wait_outcomes(step_id: str, opened: str | None, timeout: str | None) -> dict:
    return {
        "id": step_id,
        "type": "wait",
        "mode": "outcomes",
        "outcomes": [{"name": "opened", "kind": "message", "status": "opened", "next": opened}],
        "timeout_seconds": 86400,
        "timeout_next": timeout,
    }


def branch(step_id: str, yes: str | None, default: str | None) -> dict:
    return {
        "id": step_id,
        "type": "branch",
        "cases": [
            {
                "name": "vip",
                "condition": {"kind": "entry", "property": "total", "op": "gt", "value": 100},
                "next": yes,
            }
        ],
        "default_next": default,
    }


def exit_(step_id: str) -> dict:
    return {"id": step_id, "type": "exit", "name": "Done"}


def definition(steps: list[dict], start: str | None = None) -> dict:
    return {
        "trigger": {"kind": "event", "event": "cart_abandoned"},
        "start": start if start is not None else (steps[0]["id"] if steps else None),
        "steps": steps,
    }


def welcome() -> dict:
    """Send, wait for an open (or a day), then a branch; one loop back; one lost step."""
    return definition(
        [
            send("hello", "wait-open"),
            wait_outcomes("wait-open", opened="vip-check", timeout="reminder"),
            {**send("reminder", "wait-open"), "max_visits": 3},
            branch("vip-check", yes="gift", default="done"),
            {
                "id": "gift",
                "type": "action",
                "action": "points_award",
                "points": 100,
                "next": "done",
            },
            exit_("done"),
            send("orphan", "done"),
        ]
    )


def large(n: int = 200) -> dict:
    """About `n` steps in blocks of five: send → wait for an open (else a reminder that loops
    back) → branch into an action or straight on; the last block ends in an exit."""
    steps: list[dict] = []
    blocks = n // 5
    for b in range(blocks):
        nxt = f"s{b + 1}" if b + 1 < blocks else "end"
        steps += [
            send(f"s{b}", f"w{b}"),
            wait_outcomes(f"w{b}", opened=f"b{b}", timeout=f"r{b}"),
            {**send(f"r{b}", f"w{b}"), "max_visits": 2},
            branch(f"b{b}", yes=f"a{b}", default=nxt),
            {
                "id": f"a{b}",
                "type": "action",
                "action": "attribute_set",
                "key": "k",
                "value": b,
                "next": nxt,
            },
        ]
    steps.append(exit_("end"))
    return definition(steps)
