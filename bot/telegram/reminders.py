"""The job that sends paused-interview reminders through the job queue (off by default)."""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram.ext import Application, ContextTypes

from bot.telegram.handlers import hearth

log = logging.getLogger(__name__)

#: How often to look for interviews to remind: reminders are about days, not minutes.
CHECK_EVERY = timedelta(hours=1)


async def send_reminders(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the reminders that are due (each marked sent in the store before it goes)."""
    parts = hearth(context)
    hours = context.job.data if context.job else None
    if not isinstance(hours, int) or hours <= 0:
        return
    idle = timedelta(hours=hours)
    for outbound in await parts.service.reminders("telegram", idle):
        assert outbound.chat_id is not None
        await parts.sender.send(int(outbound.chat_id), outbound)


def install(application: Application, hours: int) -> None:  # type: ignore[type-arg]
    """Check hourly for interviews paused longer than `hours` (nothing when `hours` is 0)."""
    if hours <= 0 or application.job_queue is None:
        return
    application.job_queue.run_repeating(
        send_reminders,
        interval=CHECK_EVERY,
        first=timedelta(minutes=1),
        data=hours,
        name="hearth-reminders",
    )
