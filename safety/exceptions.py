"""Domain errors of the safety app. Views turn them into messages; services never return HTTP."""

from crisisnotes.errors import DomainError


class SafetyError(DomainError):
    """Base class: the message is written for the person who tried."""


class NoSupervisor(SafetyError):
    pass


class NoteNotEditable(SafetyError):
    pass


class NotYourNotification(SafetyError):
    pass
