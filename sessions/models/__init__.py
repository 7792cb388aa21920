from sessions.models.clients import Client, CommunityResource
from sessions.models.followups import FollowUpAttempt, FollowUpTask
from sessions.models.notes import (
    Addendum,
    CrisisSession,
    ExplorationStage,
    FollowUpStage,
    ProblemSolvingStage,
    QuickNote,
    RapportStage,
)
from sessions.models.review import ReviewComment

__all__ = [
    "Addendum",
    "Client",
    "CommunityResource",
    "CrisisSession",
    "ExplorationStage",
    "FollowUpAttempt",
    "FollowUpStage",
    "FollowUpTask",
    "ProblemSolvingStage",
    "QuickNote",
    "RapportStage",
    "ReviewComment",
]
