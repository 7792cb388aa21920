"""Domain errors of the safety app. Views turn them into messages; services never return HTTP."""


class SafetyError(Exception):
    """Base class: the message is written for the person who tried."""


class NoSupervisor(SafetyError):
    pass


class NoteNotEditable(SafetyError):
    pass


class NotYourNotification(SafetyError):
    pass
