"""The flask-smorest Blueprint every service uses: input errors are 400s naming the field."""
from __future__ import annotations

import flask_smorest

from .errors import StrictParser


# flask-smorest ships no type information (no py.typed, no stub package): its classes are Any to mypy.
class Blueprint(flask_smorest.Blueprint):  # type: ignore[misc]
    ARGUMENTS_PARSER = StrictParser()
