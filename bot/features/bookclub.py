"""Book clubs in a conversation: `/bookclub` in groups and private chats, reflections."""

from __future__ import annotations

from bot import bookclub
from bot.context import StepContext
from bot.model import Kind
from bot.router import Interest
from store.contract import BookClubRepo


class BookClub:
    """Group controls (admins change, anyone asks), private subscriptions and check-ins.

    Groups reach nothing else: a group never sees anyone's answers, so every other
    message there gets a pointer to a private chat.
    """

    name = "bookclub"
    #: Every private event too: anything but the reflection lets an opened check-in lapse.
    interest = Interest(private=True, groups=True)

    def handle(self, ctx: StepContext) -> bool:
        inbound = ctx.inbound
        if not inbound.private:
            if inbound.kind is Kind.COMMAND and inbound.payload == bookclub.COMMAND:
                self.control(ctx, "group", admin=inbound.chat_admin)
            else:
                ctx.say("group_refused")
            return True
        if inbound.kind is Kind.COMMAND and inbound.payload == bookclub.COMMAND:
            self.control(ctx, "private", admin=True)
            return True
        if inbound.kind is Kind.CHOICE and inbound.payload == bookclub.SUBSCRIBE:
            self.control(ctx, "private", admin=True, args="setup")
            return True
        clubs = ctx.uow.bookclub
        link = inbound.args.strip()
        if (
            inbound.kind is Kind.COMMAND
            and inbound.payload == "start"
            and link.startswith(bookclub.LINK_PREFIX)
        ):
            self.open_check_in(ctx, clubs, link.removeprefix(bookclub.LINK_PREFIX))
            return True
        return self.reflection(ctx, clubs)

    @staticmethod
    def control(
        ctx: StepContext, kind: str, admin: bool | None, args: str | None = None
    ) -> None:
        inbound = ctx.inbound
        where = bookclub.Where(
            inbound.channel, inbound.chat_id, kind, ctx.person.id, ctx.person.locale
        )
        words = inbound.args if args is None else args
        ctx.replies.extend(bookclub.control(ctx.uow, where, words, ctx.now, admin))

    @staticmethod
    def open_check_in(ctx: StepContext, clubs: BookClubRepo, token: str) -> None:
        """A "Reflect privately" link: the week's check-in question, answered next."""
        delivery = clubs.delivery_by_token(token) if token.isascii() and len(token) < 40 else None
        series = bookclub.bundle().get(delivery.series_key) if delivery is not None else None
        if delivery is None or series is None:
            ctx.replies.append(bookclub.say("link_unknown"))
            return
        week = series.week(delivery.week)
        clubs.set_pending(ctx.person.id, series.key, delivery.week, now=ctx.now)
        locale = ctx.person.locale
        ctx.replies.append(
            bookclub.say(
                "check_in",
                title=series.text(series.title, locale),
                week=delivery.week,
                theme=series.text(week.theme, locale),
                question=series.text(week.check_in, locale),
                minutes=int(bookclub.REFLECTION_WINDOW.total_seconds() // 60),
            )
        )

    @staticmethod
    def reflection(ctx: StepContext, clubs: BookClubRepo) -> bool:
        """The message typed after opening a check-in is the reflection (kept private)."""
        # Read with the person (nothing earlier in a step opens a check-in).
        arrival = ctx.arrival
        pending = arrival.bookclub_pending if arrival is not None else clubs.pending(ctx.person.id)
        if pending is None:
            return False
        clubs.clear_pending(ctx.person.id)
        series_key, week, asked_at = pending
        inbound = ctx.inbound
        if inbound.kind is not Kind.TEXT or ctx.now - asked_at > bookclub.REFLECTION_WINDOW:
            return False  # a command, a button, or much later: the check-in lapses quietly
        clubs.add_reflection(ctx.person.id, series_key, week, inbound.payload.strip(), now=ctx.now)
        # The audit trail says that a reflection was written, never its words, and ties it
        # to no interview.
        ctx.audit("bookclub_reflection", series_key)
        ctx.replies.append(bookclub.say("reflection_saved", week=week))
        return True
