"""Typed errors. Every layer raises these; one place per front end turns them into words.

The message of each error is written for the user: it says what went wrong with *their*
input and, where possible, what to do about it.
"""


class TeXSnapError(Exception):
    """Base class of every error TeXSnap raises on purpose."""


class InvalidImage(TeXSnapError):
    """The input is not an image we can read (empty, truncated, unknown format, too large)."""


class BlankImage(TeXSnapError):
    """The image holds no visible content (all one colour)."""


class ModelError(TeXSnapError):
    """A model directory is missing, damaged, or of an unknown format."""


class DatasetError(TeXSnapError):
    """A data set (zip or folder with images/ and labels.tsv) cannot be read."""


class RenderError(TeXSnapError):
    """LaTeX that the preview renderer (matplotlib mathtext) cannot draw."""


class SettingsError(TeXSnapError):
    """A settings file that cannot be read; callers fall back to defaults."""


class Cancelled(TeXSnapError):
    """A long operation stopped because the user asked it to."""
