"""notify_svc HTTP API: authenticates every request; the notification endpoints themselves are not built yet."""
from __future__ import annotations

from flask_smorest import abort

from taskwire_common.auth import login_required
from taskwire_common.blueprint import Blueprint

blp = Blueprint("notifications", __name__, url_prefix="/api/notifications", description="Notifications")


@blp.route("/", defaults={"path": ""}, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
@blp.route("/<path:path>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
@login_required
def not_built_yet(path):
    """Every notification endpoint answers 501 to an authenticated caller until the notification API lands."""
    abort(501, message="The notification API is not implemented yet.")
