"""notify_svc HTTP API: /api/notifications/ (a user's own notifications, read state, unread count, preferences)."""
from __future__ import annotations

import orjson
from flask import Response
from flask.views import MethodView
from webargs.flaskparser import abort  # what flask_smorest re-exports as abort, there without its types (NoReturn)

from taskwire_common.auth import current_principal, login_required
from taskwire_common.blueprint import PAGE_HEADERS, Blueprint
from taskwire_common.pagination import fetch_rows_page, pagination_headers

from . import preferences, services
from .models import Notification
from .schemas import (
    MarkedSchema,
    NotificationListArgsSchema,
    NotificationSchema,
    PreferencesSchema,
    ReadStatePatchSchema,
    ReadStateSchema,
    UnreadCountSchema,
)

blp = Blueprint("notifications", __name__, url_prefix="/api/notifications",
                description="Each user's own notifications of changes to their tasks")


def own_notification_or_404(notification_id: int) -> Notification:
    notification = services.find_notification(current_principal().user_id, notification_id)
    if notification is None:
        abort(404, message="No notification with that id.")
    return notification


@blp.route("/")
class Notifications(MethodView):
    decorators = [login_required]

    @blp.arguments(NotificationListArgsSchema, location="query")
    @blp.response(200, NotificationSchema(many=True), headers=PAGE_HEADERS)
    def get(self, args):
        """The caller's notifications, newest first, optionally only read or unread ones."""
        page, page_size = args.pop("page"), args.pop("page_size")
        statement, params = services.users_notifications(current_principal().user_id, args.get("is_read"))
        # Not "few rows": notifications pile up, and a window count would visit every one of them.
        rows, total = fetch_rows_page(statement, params, page, page_size, few_rows=False)
        # The rows are the notification JSON already (columns = fields); orjson writes them without a schema pass.
        return Response(orjson.dumps(rows), mimetype="application/json",
                        headers=pagination_headers(total, page, page_size))


@blp.route("/unread-count/")
class UnreadCount(MethodView):
    decorators = [login_required]

    @blp.response(200, UnreadCountSchema)
    def get(self):
        return {"unread_count": services.unread_count(current_principal().user_id)}


@blp.route("/mark-all-read/")
class MarkAllRead(MethodView):
    decorators = [login_required]

    @blp.response(200, MarkedSchema)
    def post(self):
        return {"marked_read": services.mark_all_read(current_principal().user_id)}


@blp.route("/preferences/")
class Preferences(MethodView):
    decorators = [login_required]

    @blp.response(200, PreferencesSchema)
    def get(self):
        """Which kinds of notification the caller gets; every kind is on until turned off."""
        return preferences.users_preferences(current_principal().user_id)

    @blp.arguments(PreferencesSchema)
    @blp.response(200, PreferencesSchema)
    def put(self, wanted):
        """Turn kinds on (true) or off (false); kinds left out keep their value. Answers every kind."""
        return preferences.set_preferences(current_principal().user_id, wanted)


@blp.route("/<int:notification_id>/")
class NotificationDetail(MethodView):
    decorators = [login_required]

    @blp.response(200, NotificationSchema)
    def get(self, notification_id):
        return own_notification_or_404(notification_id)

    @blp.arguments(ReadStateSchema)
    @blp.response(200, NotificationSchema)
    def put(self, fields, notification_id):
        return services.mark(own_notification_or_404(notification_id), fields["is_read"])

    @blp.arguments(ReadStatePatchSchema)
    @blp.response(200, NotificationSchema)
    def patch(self, fields, notification_id):
        notification = own_notification_or_404(notification_id)
        if "is_read" in fields:
            services.mark(notification, fields["is_read"])
        return notification
