"""Test helpers for the data features: interviews as records, without a store."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.data.load import InterviewData
from flows.engine import Answer
from flows.schema import Flow
from store.records import InterviewRecord
from tests.unit.families import NOW


def interview(
    flow: Flow,
    answers: dict[str, Answer],
    *,
    interview_id: str = "AbC_d-123xyz",
    state: str = "submitted",
    created: datetime = NOW,
    minutes: float = 20,
    cursor: str | None = None,
    consented: bool = True,
    follow_up_of: str | None = None,
    last_answer_at: datetime | None = None,
    updated: datetime | None = None,
    nickname: str | None = "Mia",
) -> InterviewData:
    """An interview's data as the loader would give it."""
    submitted = created + timedelta(minutes=minutes) if state == "submitted" else None
    record = InterviewRecord(
        id=interview_id,
        flow_id=flow.id,
        flow_version=flow.version,
        owner_id=1,
        respondent_id=2,
        subject_nickname=nickname,
        state=state,
        consented=consented,
        cursor=cursor,
        revision=10,
        draft=None,
        created_at=created,
        updated_at=updated or submitted or created,
        submitted_at=submitted,
    )
    return InterviewData(record, answers, follow_up_of, last_answer_at or submitted)
