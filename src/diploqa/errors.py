"""Exceptions a user can hit. The CLI and UI print ``str(err)`` as one line, so every
message says what is wrong and what to do about it."""


class DiploqaError(Exception):
    """Base class: anything the user can fix (bad input, missing files, stale index)."""


class ArticlesError(DiploqaError):
    """The articles folder is missing, empty, or holds no readable article."""


class IndexCorruptError(DiploqaError):
    """An index file is missing, truncated or unparsable; a rebuild fixes it."""


class IndexMismatchError(DiploqaError):
    """The index was built with another model, dimension or format version."""


class QueryError(DiploqaError, ValueError):
    """The question or a search parameter (``k``) is invalid."""


class ModelError(DiploqaError):
    """The embedding model cannot be found or materialised."""


class StoreUnavailableError(DiploqaError):
    """The vector engine (Milvus) cannot be reached, refused the credentials, or failed a call;
    the stored index is unchanged, and a retry works once the engine answers again."""


class SettingsError(DiploqaError, ValueError):
    """A setting (an environment variable, a flag or a function argument) has a value it
    cannot take; the message names it and what it may be."""
