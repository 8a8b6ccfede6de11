"""Conditional requests (RFC 9110 §13): a resource's version as its ETag, If-Match and If-None-Match.

A resource that carries a `version` (1 when made, one more with every change) answers it as a
strong entity tag, `"<version>"`. A client sends the tag back in `If-Match` to change the resource
only if nobody changed it since it read it; a server that finds another version answers 412 and
changes nothing. Services check the preconditions on the row they have locked for the write, so the
check and the write are one atomic step.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from flask import Request, Response
from werkzeug.datastructures import ETags

from .errors import problem_response


def etag(version: int) -> str:
    """The strong entity tag of a resource's version, quoted as the header carries it."""
    return f'"{version}"'


@dataclass(frozen=True)
class Preconditions:
    """What a request's If-Match and If-None-Match ask of the resource's current version.

    If-Match uses the strong comparison (a weak tag never matches), If-None-Match the weak one; `*`
    matches any version of a resource that exists (RFC 9110 §13.1.1, §13.1.2). Without either header
    every version passes, so clients that send neither work as before.
    """

    if_match: ETags
    if_none_match: ETags

    @classmethod
    def of(cls, request: Request) -> Preconditions:
        return cls(request.if_match, request.if_none_match)

    def allow_write(self, version: int) -> bool:
        """For PUT, PATCH and DELETE: may the resource at `version` change?"""
        tag = str(version)
        if self.if_match and not self.if_match.contains(tag):
            return False
        return not (self.if_none_match and self.if_none_match.contains_weak(tag))

    def allow_read(self, version: int) -> bool:
        """For GET and HEAD: False when If-Match names another version (412)."""
        return not self.if_match or self.if_match.contains(str(version))

    def client_has(self, version: int) -> bool:
        """For GET and HEAD: the client's copy (If-None-Match) is this version, so 304 Not Modified will do."""
        return bool(self.if_none_match) and self.if_none_match.contains_weak(str(version))


class PreconditionFailed(Exception):
    """A request refused by its preconditions; `current` is the resource as it is now (its JSON, with `version`)."""

    def __init__(self, noun: str, current: Mapping[str, Any]):
        super().__init__(f"the {noun} is at version {current['version']}")
        self.noun = noun
        self.current = current


def precondition_failed_response(error: PreconditionFailed) -> Response:
    """412 with the current version (and the resource, for the client to merge) and its ETag; nothing changed."""
    version = error.current["version"]
    return problem_response(
        412, "Precondition Failed",
        f"The {error.noun} is not at the version you sent: it is at version {version}. Nothing was changed; "
        f"merge your change with `current` and send it again with If-Match: {etag(version)}.",
        headers={"ETag": etag(version)}, extensions={"current_version": version, "current": error.current})


def resource_response(resource: Mapping[str, Any], status: int = 200) -> Response:
    """A versioned resource's JSON with its ETag."""
    response = Response(orjson.dumps(resource), status=status, mimetype="application/json")
    response.headers["ETag"] = etag(resource["version"])
    return response


def not_modified_response(version: int) -> Response:
    return Response(status=304, headers={"ETag": etag(version)})


def read_response(resource: Mapping[str, Any], noun: str, preconditions: Preconditions) -> Response:
    """GET of a versioned resource: 412, 304 or the resource with its ETag, as the preconditions ask."""
    version = resource["version"]
    if not preconditions.allow_read(version):
        raise PreconditionFailed(noun, resource)
    if preconditions.client_has(version):
        return not_modified_response(version)
    return resource_response(resource)
