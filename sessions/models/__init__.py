from sessions.models.clients import Client, CommunityResource
from sessions.models.exports import ExportChunk, ExportJob
from sessions.models.fhir import FhirApiToken
from sessions.models.followups import FollowUpAlert, FollowUpAttempt, FollowUpTask
from sessions.models.integrity import RecordIntegrityAlert
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
from sessions.models.supervision import ConsultReply

__all__ = [
    "Addendum",
    "Client",
    "CommunityResource",
    "ConsultReply",
    "CrisisSession",
    "ExplorationStage",
    "ExportChunk",
    "ExportJob",
    "FhirApiToken",
    "FollowUpAlert",
    "FollowUpAttempt",
    "FollowUpStage",
    "FollowUpTask",
    "NoteHandoff",
    "ProblemSolvingStage",
    "QuickNote",
    "RapportStage",
    "RecordIntegrityAlert",
    "ReviewComment",
    "Snippet",
]
