"""tasks_svc HTTP API: authenticates every request; the task endpoints themselves are not built yet."""
from __future__ import annotations

from flask_smorest import abort

from taskwire_common.auth import login_required
from taskwire_common.blueprint import Blueprint

blp = Blueprint("tasks", __name__, url_prefix="/api/tasks", description="Tasks")


@blp.route("/", defaults={"path": ""}, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
@blp.route("/<path:path>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
@login_required
def not_built_yet(path):
    """Every task endpoint answers 501 to an authenticated caller until the task API lands."""
    abort(501, message="The task API is not implemented yet.")
