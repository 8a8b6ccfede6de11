"""The flask-smorest Blueprint every service uses: input errors are 400s naming the field."""
from __future__ import annotations

import flask_smorest

from .errors import StrictParser


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = StrictParser()
