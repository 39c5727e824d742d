"""The features of a conversation, each a handler the router asks in turn (bot/router.py).

The order is the router's list (`standard`): adding a feature, or an adapter, touches
that list and nothing else.
"""

from __future__ import annotations

from bot.features.bookclub import BookClub
from bot.features.clinician import Clinicians
from bot.features.data import DataCommands
from bot.features.erasure import Erasure
from bot.features.followup import FollowUps
from bot.features.inbox import WebInbox
from bot.features.informants import Informants
from bot.features.invitations import Invitations
from bot.features.plan import Plans
from bot.features.ratings import Ratings
from bot.features.resume import ResumeCodes
from bot.features.safety import Safety
from bot.features.teams import Teams
from bot.features.web_signin import WebSignIn
from bot.intake.feature import Intake
from bot.router import Feature
from bot.safety import SafetyNet


def standard(net: SafetyNet | None, intake: Intake) -> list[Feature]:
    """Every feature, in the order they are asked; the intake last, taking what is left."""
    return [
        Erasure(),  # first: nothing else may answer a pending "yes, erase"
        BookClub(),  # groups end here; in private: /bookclub, check-in links, reflections
        Invitations(),  # /start <code> (a /start r_… check-in link was the book club's)
        ResumeCodes(),  # /code, /continue CODE (a plain /resume goes on to the intake)
        Clinicians(),
        Teams(),  # /transfer
        WebSignIn(),  # /web: a clinician's one-time link to the web workspace
        Informants(),  # /informant: a teacher's or second caregiver's form
        Ratings(),  # /rate, /ratings: the clinician's view of a function, with a reason
        FollowUps(),
        Plans(),  # /note, /plan, /schedule; the family's check-in and re-assessment buttons
        WebInbox(),  # the web family's "got it" on the plan it was sent (bot/inbox.py)
        DataCommands(),
        Safety(net),  # /lowexposure; its after-step hook sees every private step
        intake,
    ]
