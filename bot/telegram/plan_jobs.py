"""The job that sends the plan's check-ins and scheduled re-assessments (bot/plan_jobs.py)."""

from __future__ import annotations

from datetime import timedelta

from telegram.ext import Application, ContextTypes

from bot.telegram.handlers import Hearth, hearth

#: How often to look: a plan sent from the web workspace should reach the family soon;
#: each look is three indexed reads.
CHECK_EVERY = timedelta(minutes=1)


async def send_due(parts: Hearth) -> int:
    """Send what is due (each marked sent in the store before it goes); how many messages."""
    sent = 0
    for outbound in await parts.service.plan_sends("telegram"):
        if outbound.chat_id is None:
            continue
        await parts.sender.send(int(outbound.chat_id), outbound)
        sent += 1
    return sent


async def _job(context: ContextTypes.DEFAULT_TYPE) -> None:
    await send_due(hearth(context))


def install(application: Application) -> None:  # type: ignore[type-arg]
    """Check hourly for check-ins and re-assessments that are due."""
    if application.job_queue is None:
        return
    application.job_queue.run_repeating(
        _job, interval=CHECK_EVERY, first=timedelta(seconds=30), name="hearth-plan-sends"
    )
