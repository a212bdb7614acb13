"""tmplite: a small text template engine."""

from .engine import Template, render
from .errors import TemplateError, TemplateSyntaxError, UndefinedError
from .filters import FILTERS, register_filter

__all__ = [
    "FILTERS",
    "Template",
    "TemplateError",
    "TemplateSyntaxError",
    "UndefinedError",
    "register_filter",
    "render",
]
