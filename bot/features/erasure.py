"""Erasure: `/forget`, its confirmation, and the rule that anything else lets it lapse."""

from __future__ import annotations

from bot.access import is_clinician
from bot.context import StepContext
from bot.model import Kind
from bot.router import Interest
from flows.lifecycle import State, is_open
from messages.words import means_erase

LIBRARY = "clinician.j2"
ERASE = "acc:erase"
KEEP = "acc:keep"
def close_informant_forms(ctx: StepContext, interview_id: str) -> None:
    """The family withdrew: forms still open beside their interview stop (links revoked,
    withdrawn), so nothing more about their child is collected. What an informant already
    sent stays with the clinician, as the clinician's own answers do (docs/informants.md)."""
    for form, _ in ctx.uow.interviews.informants_of(interview_id):
        if not is_open(State(form.state)):
            continue
        ctx.uow.access.revoke_invites(form.id, now=ctx.now)
        form.state, form.cursor, form.draft = State.WITHDRAWN.value, None, None
        form.revision += 1
        form.updated_at = ctx.now
        ctx.uow.interviews.save(form)
        ctx.uow.audit.add("closed", interview_id=form.id, person_id=None, now=ctx.now,
                          detail="family_erased")


class Erasure:
    """First in a private chat, so that nothing else can answer a pending confirmation."""

    name = "erasure"
    #: Every private message: anything but a confirmation lets a pending request lapse.
    interest = Interest(private=True)

    def handle(self, ctx: StepContext) -> bool:
        inbound = ctx.inbound
        if not inbound.private:
            return False
        if inbound.kind is Kind.CHOICE and inbound.payload in (ERASE, KEEP):
            if inbound.payload == ERASE:
                self.confirm(ctx)
            else:
                ctx.uow.access.cancel_erasure(ctx.person.id)
                ctx.say("forget_cancelled", library=LIBRARY)
            return True
        # Nothing in this step asked for an erasure yet: the request read with the person.
        arrival = ctx.arrival
        requested = (arrival.erasure_requested_at if arrival is not None
                     else ctx.uow.access.erasure_requested_at(ctx.person.id))
        if requested is not None:
            # The words the confirmation asks for ("yes, erase"; "sí, borrar"): words.yaml.
            if inbound.kind is Kind.TEXT and means_erase(inbound.payload, ctx.person.locale):
                self.confirm(ctx)
                return True
            # Anything else lets the request lapse, so a later "yes, erase" typed as an
            # answer can never erase by surprise.
            ctx.uow.access.cancel_erasure(ctx.person.id)
        if inbound.kind is Kind.COMMAND and inbound.payload == "forget":
            self.forget(ctx)
            return True
        return False

    @staticmethod
    def forget(ctx: StepContext) -> None:
        """`/forget`: ask for confirmation before erasing everything this person gave."""
        access = ctx.uow.access
        if is_clinician(ctx.person) or access.has_created_invites(ctx.person.id):
            ctx.say("forget_refused", library=LIBRARY)
            return
        access.request_erasure(ctx.person.id, now=ctx.now)
        ctx.say(
            "forget_confirm",
            [("button_erase", ERASE), ("button_keep", KEEP)],
            library=LIBRARY,
            count=len(ctx.uow.interviews.of_person(ctx.person.id)),
            minutes=int(ctx.access.erase_window.total_seconds() // 60),
        )

    @staticmethod
    def confirm(ctx: StepContext) -> None:
        """Erase, if a "/forget" is pending and recent; otherwise change nothing."""
        requested = ctx.uow.access.erasure_requested_at(ctx.person.id)
        if requested is None or ctx.now - requested > ctx.access.erase_window:
            ctx.uow.access.cancel_erasure(ctx.person.id)
            ctx.say("forget_expired", library=LIBRARY)
            return
        erasure = ctx.uow.erase_person(ctx.person.id, now=ctx.now)
        for interview_id in erasure.withdrawn:
            close_informant_forms(ctx, interview_id)
        ctx.erased = erasure.deleted + erasure.withdrawn
        ctx.switch_to(None)
        ctx.say("erased", library=LIBRARY)
