"""Resume codes: `code` gives a short code, `continue CODE` carries the interview on elsewhere."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from bot.access import guessing_wait, is_clinician
from bot.context import StepContext
from bot.model import Kind
from bot.replies import Say
from bot.router import Interest
from flows.lifecycle import State, is_open
from store.records import InterviewRecord

LIBRARY = "resume.j2"
#: Failed attempts of this kind are counted like wrong invitation codes (bot/access.py).
WRONG_RESUME_CODE = "resume_code"

#: Crockford's base 32: digits and capitals without I, L, O and U, so a code read aloud or
#: copied from a screen has no look-alikes; typed I, L and O are read as 1, 1 and 0.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
#: 8 characters of 32: 40 bits. Guessing is limited per person (`wrong_codes_allowed` an
#: hour), a code lives at most `resume_ttl` and only while its interview is open.
LENGTH = 8
_FOLD = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = re.compile(r"[\s\-._]+")


def new_resume_code() -> str:
    """A fresh code, in its normal form (shown as ABCD-2345 by `shown`)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def shown(code: str) -> str:
    """The code as a person reads it: two groups of four."""
    return f"{code[:4]}-{code[4:]}"


def normalised(typed: str) -> str | None:
    """A typed code in its normal form (any case, dashes or spaces), None if not one."""
    code = _SEPARATORS.sub("", typed.strip()).upper().translate(_FOLD)
    if len(code) != LENGTH or any(c not in ALPHABET for c in code):
        return None
    return code


def resume_hash(code: str) -> str:
    """What the store keeps: the SHA-256 of the normal form, apart from invitation hashes."""
    return hashlib.sha256(f"resume:{code}".encode()).hexdigest()


class ResumeCodes:
    """`code` for the respondent of an open interview; `continue CODE` from anyone else."""

    name = "resume"
    #: "resume" too: "continuar ABCD-2345" in Spanish is the resume word with a code.
    interest = Interest(commands=frozenset({"code", "continue", "resume"}))

    def handle(self, ctx: StepContext) -> bool:
        inbound = ctx.inbound
        if not inbound.private or inbound.kind is not Kind.COMMAND:
            return False
        args = inbound.args.strip()
        if inbound.payload == "resume":
            if normalised(args) is None:
                return False  # a plain "resume" is the intake's
            self.redeem(ctx, args)
        elif inbound.payload == "code":
            self.issue(ctx)
        elif not args:
            ctx.say("continue_usage", library=LIBRARY)
        else:
            self.redeem(ctx, args)
        return True

    @staticmethod
    def issue(ctx: StepContext) -> None:
        """A new code for the person's open interview (an older code stops working)."""
        interview = ctx.interview
        if interview is None or not ctx.is_open() or interview.respondent_id != ctx.person.id:
            ctx.say("code_no_interview", library=LIBRARY)
            return
        access = ctx.uow.access
        access.prune_resume_codes(ctx.now)  # expired codes of anyone: they never work again
        code = new_resume_code()
        expires = ctx.now + ctx.access.resume_ttl
        access.add_resume_code(
            resume_hash(code),
            interview_id=interview.id,
            created_by=ctx.person.id,
            now=ctx.now,
            expires_at=expires,
        )
        ctx.event("resume_code")  # never the code itself
        ctx.replies.append(
            Say(
                message="code_issued",
                library=LIBRARY,
                params={
                    "code": None,
                    "expires": f"{expires:%Y-%m-%d %H:%M} UTC",
                    "web_url": ctx.access.web_url,
                },
                # Shown once, like an invitation: not even the stored delivery keeps it.
                secret={"code": shown(code)},
            )
        )

    def redeem(self, ctx: StepContext, typed: str) -> None:
        """`continue CODE`: the interview moves to this person and asks its question here."""
        if is_clinician(ctx.person):
            ctx.audit("resume_refused", "clinician")
            ctx.say("continue_clinician", library=LIBRARY)
            return
        if self.limited(ctx):
            return
        access, now = ctx.uow.access, ctx.now
        code = normalised(typed)
        digest = resume_hash(code) if code is not None else ""
        found = access.resume_code(digest) if code is not None else None
        if found is None or not hmac.compare_digest(found.code_hash, digest):
            access.add_attempt(ctx.person.id, WRONG_RESUME_CODE, now=now)
            ctx.audit("resume_refused", "wrong")
            ctx.say("continue_unknown", library=LIBRARY)
            return
        interview = ctx.uow.interviews.get(found.interview_id)
        if found.used_at is not None:
            ctx.audit("resume_refused", "used")
            ctx.say("continue_used", library=LIBRARY)
            return
        if now >= found.expires_at or interview is None or not is_open(State(interview.state)):
            ctx.audit("resume_refused", "expired")
            ctx.say("continue_expired", library=LIBRARY)
            return
        if not access.use_resume_code(digest, now=now):  # used meanwhile: single use holds
            ctx.say("continue_used", library=LIBRARY)
            return
        self.move(ctx, interview)

    @staticmethod
    def limited(ctx: StepContext) -> bool:
        """True (and said so) once this person guessed wrong too often lately."""
        wait = guessing_wait(ctx.uow, ctx.access, ctx.person.id, WRONG_RESUME_CODE, ctx.now)
        if wait is None:
            return False
        ctx.audit("resume_refused", "rate_limited")
        ctx.say("continue_too_many", library=LIBRARY, minutes=wait)
        return True

    @staticmethod
    def move(ctx: StepContext, interview: InterviewRecord) -> None:
        """Make this person the respondent; the one before no longer has it open."""
        person = ctx.person
        previous = interview.respondent_id
        if previous is not None and previous != person.id:
            before = ctx.uow.people.by_id(previous)
            if before is not None and before.active_interview == interview.id:
                before.active_interview = None
                ctx.uow.people.save(before)
        if interview.owner_id == previous:
            # A family's own interview (no clinician) moves whole: the person before keeps
            # no hold on it, as an owner would.
            interview.owner_id = person.id
        interview.respondent_id = person.id
        ctx.switch_to(interview)
        ctx.touch()  # a new revision: the buttons left on the other device go stale
        ctx.event("continued", f"{previous}:{person.id}")  # people's ids, never the code
        ctx.say("continued", library=LIBRARY, nickname=interview.subject_nickname)
        assert ctx.conversation is not None
        ctx.conversation.take_up(ctx, interview)
