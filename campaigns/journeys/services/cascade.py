"""The cascade step: channels in order, each waiting for its outcome before falling back.

Its position lives in the run's context (`cascade[step]`: round, channel index, phase, the
awaited message and until when). Phases: "try" sends on the current channel (one the customer
can't be reached on is skipped, with the reason logged), "await" waits for that message's
outcome, "pause" waits between rounds. It ends by the "outcome" way (the outcome came, or the
attached promo code was redeemed) or the "next" way (rounds exhausted, the code expired, the
deadline passed). The journey's goal ends the run in any case, like everywhere else.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils.dateparse import parse_datetime

from campaigns.journeys.services.engine import Batch, Run, SendRequest, move, wait
from campaigns.journeys.services.outcomes import STATUS_RANK, message_reached


def _at(value: str | None) -> datetime | None:
    return parse_datetime(value) if value else None


def _finish(batch: Batch, run: Run, step, label: str, result: str) -> None:
    run.context.get("cascade", {}).pop(step.id, None)
    batch.log(run, f"cascade:{result}")
    move(
        batch, run, label, step.next_on_outcome if label == "outcome" else step.next, result=result
    )


def _signal_hits(step, state: dict, run: Run) -> str:
    """What the arrived signal means for the cascade: "outcome", "redeemed" or ""."""
    signal = run.signal
    if signal is None:
        return ""
    code = run.context.get("promo_code")
    if (
        step.stop_on_promo
        and code
        and signal.kind == "order"
        and str(signal.properties.get("promo_code", "")).strip().upper() == code.upper()
    ):
        return "redeemed"
    if state.get("phase") != "await":
        return ""
    wanted = step.channels[state["index"]].outcome
    if wanted == "replied":
        return (
            "outcome" if signal.kind == "reply" and signal.channel == state.get("channel") else ""
        )
    if wanted == "converted":
        return ""  # the goal ends the run
    if (
        signal.kind == "message"
        and signal.message_id == state.get("message")
        and STATUS_RANK.get(signal.status, -1) >= STATUS_RANK[wanted]
    ):
        return "outcome"
    return ""


def _promo_redeemed(run: Run) -> bool:
    from campaigns.promo.models import PromoCode, PromoCodeStatus

    code = run.context.get("promo_code")
    return (
        bool(code)
        and PromoCode.objects.filter(
            code=code.upper(),
            customer_id=run.enrollment.customer_id,
            status=PromoCodeStatus.REDEEMED,
        ).exists()
    )


def _limit(step, run: Run, until: datetime) -> datetime:
    """A wait never runs past the deadline or the code's expiry: the run wakes then to end."""
    bounds = [until]
    if step.deadline_seconds:
        bounds.append(run.enrollment.step_entered_at + timedelta(seconds=step.deadline_seconds))
    expires = _at(run.context.get("promo_expires"))
    if step.stop_on_promo and expires:
        bounds.append(expires)
    return min(bounds)


def cascade_handle(batch: Batch, run: Run, step) -> None:
    e = run.enrollment
    states = run.context.setdefault("cascade", {})
    state = states.setdefault(step.id, {"round": 1, "index": 0, "phase": "try"})
    hit = _signal_hits(step, state, run)
    if hit:
        _finish(batch, run, step, "outcome", hit)
        return
    if run.signal is not None and run.send is None:
        return  # a signal for something else: keep waiting
    now = batch.now
    if step.stop_on_promo and run.context.get("promo_code"):
        if _promo_redeemed(run):
            _finish(batch, run, step, "outcome", "redeemed")
            return
        expires = _at(run.context.get("promo_expires"))
        if expires and now >= expires:
            _finish(batch, run, step, "next", "expired")
            return
    if step.deadline_seconds and now >= e.step_entered_at + timedelta(
        seconds=step.deadline_seconds
    ):
        _finish(batch, run, step, "next", "deadline")
        return
    if state["phase"] == "await":
        until = _at(state.get("until"))
        channel = step.channels[state["index"]]
        if channel.outcome not in ("converted",) and message_reached(
            state.get("message"), channel.outcome
        ):
            _finish(batch, run, step, "outcome", "outcome")
            return
        if until and now < until:
            wait(batch, run, until, f"cascade {state.get('channel')}")
            return
        batch.log(run, "cascade:no_outcome", state.get("channel", ""))
        state.update(phase="try", index=state["index"] + 1, message=None, until=None)
        run.changed = True
    if state["phase"] == "pause":
        until = _at(state.get("until"))
        if until and now < until:
            wait(batch, run, until, "cascade pause")
            return
        state.update(phase="try", round=state["round"] + 1, index=0, until=None)
        run.changed = True
    _try(batch, run, step, state)


def _try(batch: Batch, run: Run, step, state: dict) -> None:
    now = batch.now
    request = run.send
    if request is not None and request.step_id == step.id:
        if request.message_id is None and request.delayed_until is None:
            return  # the batch has not stored it yet
        run.send = None
        if request.delayed_until is not None:
            wait(batch, run, _limit(step, run, request.delayed_until), "limit")
            return
        if request.status == "suppressed":
            batch.log(run, "unreachable", f"{request.sent_channel}: {request.reason}")
            state.update(index=state["index"] + 1)
        else:
            batch.log(run, "sent", f"{request.sent_channel} #{request.message_id}")
            channel = step.channels[state["index"]]
            until = _limit(step, run, now + timedelta(seconds=channel.wait_seconds))
            state.update(
                phase="await",
                message=request.message_id,
                channel=request.sent_channel,
                until=until.isoformat(),
            )
            run.context.setdefault("messages", {})[step.id] = request.message_id
            run.context.setdefault("channels", {})[step.id] = request.sent_channel
            run.context["last_message"] = request.message_id
            run.context["last_channel"] = request.sent_channel
            run.changed = True
            wait(batch, run, until, f"cascade {request.sent_channel}")
            return
        run.changed = True
    if state["index"] >= len(step.channels):
        if state["round"] >= step.rounds:
            _finish(batch, run, step, "next", "exhausted")
            return
        if step.round_pause_seconds:
            until = _limit(step, run, now + timedelta(seconds=step.round_pause_seconds))
            state.update(phase="pause", until=until.isoformat())
            run.changed = True
            wait(batch, run, until, "cascade pause")
            return
        state.update(round=state["round"] + 1, index=0)
    channel = step.channels[state["index"]]
    visits = run.context.get("visits", {}).get(step.id, 1)
    run.send = SendRequest(
        step_id=step.id,
        key=f"journey:{run.enrollment.pk}:{step.id}:{visits}:r{state['round']}c{state['index']}",
        channel=channel.channel,
        template_id=channel.template_id,
        template_version_id=channel.template_version_id,
    )
