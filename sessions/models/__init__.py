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
    "ExportChunk",
    "ExportJob",
    "FhirApiToken",
    "FollowUpAlert",
    "FollowUpAttempt",
    "FollowUpStage",
    "FollowUpTask",
    "ProblemSolvingStage",
    "QuickNote",
    "RapportStage",
    "RecordIntegrityAlert",
    "ReviewComment",
]
