from sessions.models.clients import Client, CommunityResource
from sessions.models.exports import ExportJob
from sessions.models.followups import FollowUpAlert, FollowUpAttempt, FollowUpTask
from sessions.models.notes import (
    Addendum,
    CrisisSession,
    ExplorationStage,
    FollowUpStage,
    NoteHandoff,
    ProblemSolvingStage,
    QuickNote,
    RapportStage,
)
from sessions.models.review import ReviewComment
from sessions.models.snippets import Snippet

__all__ = [
    "Addendum",
    "Client",
    "CommunityResource",
    "CrisisSession",
    "ExplorationStage",
    "ExportJob",
    "FollowUpAlert",
    "FollowUpAttempt",
    "FollowUpStage",
    "FollowUpTask",
    "NoteHandoff",
    "ProblemSolvingStage",
    "QuickNote",
    "RapportStage",
    "ReviewComment",
    "Snippet",
]
