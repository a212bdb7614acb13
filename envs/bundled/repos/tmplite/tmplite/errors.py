"""Exceptions raised by tmplite."""


class TemplateError(Exception):
    """Base class for template errors."""


class TemplateSyntaxError(TemplateError):
    """The template source is malformed."""

    def __init__(self, message: str, lineno: int):
        super().__init__(f"line {lineno}: {message}")
        self.lineno = lineno


class UndefinedError(TemplateError):
    """A variable is missing and the template is strict."""
