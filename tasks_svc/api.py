"""tasks_svc HTTP API: /api/tasks/ (list with filters, create, get, replace, change, delete)."""
from __future__ import annotations

from typing import NoReturn

import orjson
from flask import Response, request
from flask.views import MethodView
from webargs.flaskparser import abort  # what flask_smorest re-exports as abort, there without its types (NoReturn)

from taskwire_common.auth import current_principal, login_required
from taskwire_common.blueprint import ETAG, LOCATION, PAGE_HEADERS, REPLAYED, Blueprint
from taskwire_common.conditional import Preconditions, read_response, resource_response
from taskwire_common.idempotency import requested_key, signed_in_caller
from taskwire_common.pagination import fetch_rows_page, pagination_headers

from . import services
from .schemas import TaskListArgsSchema, TaskPatchSchema, TaskSchema, TaskWriteSchema

blp = Blueprint("tasks", __name__, url_prefix="/api/tasks",
                description="Tasks: an admin sees and changes all, a user those assigned to them")


def not_found() -> NoReturn:
    abort(404, message="No task with that id.")


def refused(error: Exception):
    if isinstance(error, services.Forbidden):
        abort(403, message=str(error))
    abort(400, message=str(error), errors={"assigned_user": [str(error)]})


@blp.route("/")
class Tasks(MethodView):
    decorators = [login_required]

    @blp.arguments(TaskListArgsSchema(), location="query")
    @blp.response(200, TaskSchema(many=True), headers=PAGE_HEADERS)
    def get(self, args):
        """Tasks the caller may see, filtered, ordered and paginated."""
        page, page_size = args.pop("page"), args.pop("page_size")
        principal = current_principal()
        statement, params = services.filtered_tasks(principal, args)
        rows, total = fetch_rows_page(statement, params, page, page_size,
                                      few_rows=not principal.is_admin)  # a user's own tasks are few
        # The rows are the task JSON already (columns = fields); orjson writes them without a schema pass.
        return Response(orjson.dumps(rows), mimetype="application/json",
                        headers=pagination_headers(total, page, page_size))

    @blp.arguments(TaskWriteSchema())
    @blp.response(201, TaskSchema, headers={"Location": LOCATION, "ETag": ETAG, "Idempotent-Replayed": REPLAYED})
    @blp.alt_response(403, response="FORBIDDEN")  # a user assigning the task to someone else
    @blp.idempotent_create
    def post(self, fields):
        """Create a task; a user's task is assigned to them. An Idempotency-Key makes a retry safe."""
        principal = current_principal()
        try:
            answer = services.create_task(principal, fields, requested_key(signed_in_caller(principal.user_id)))
        except (services.Forbidden, services.InvalidAssignee) as error:
            refused(error)
        return answer.response()


@blp.route("/<int:task_id>/")
class TaskDetail(MethodView):
    decorators = [login_required]

    @blp.response(200, TaskSchema, headers={"ETag": ETAG})
    @blp.conditional_read
    def get(self, task_id):
        """The task, with its version as ETag; If-None-Match with that ETag answers 304."""
        task = services.find_task(current_principal(), task_id)
        if task is None:
            not_found()
        return read_response(services.task_json(task), "task", Preconditions.of(request))

    @blp.arguments(TaskWriteSchema)
    @blp.response(200, TaskSchema, headers={"ETag": ETAG})
    @blp.conditional_write
    def put(self, fields, task_id):
        """Replace every writable field; those left out take their defaults. If-Match: only from that version."""
        try:
            return resource_response(services.replace_task(current_principal(), task_id, fields,
                                                           Preconditions.of(request)))
        except (services.Forbidden, services.InvalidAssignee) as error:
            refused(error)
        except services.TaskNotFound:
            not_found()

    @blp.arguments(TaskPatchSchema)
    @blp.response(200, TaskSchema, headers={"ETag": ETAG})
    @blp.conditional_write
    def patch(self, changes, task_id):
        """Change the fields given. If-Match: only from that version."""
        try:
            return resource_response(services.update_task(current_principal(), task_id, changes,
                                                          Preconditions.of(request)))
        except (services.Forbidden, services.InvalidAssignee) as error:
            refused(error)
        except services.TaskNotFound:
            not_found()

    @blp.response(204)
    @blp.conditional_write
    def delete(self, task_id):
        """Delete the task. If-Match: only at that version."""
        try:
            services.delete_task(current_principal(), task_id, Preconditions.of(request))
        except services.TaskNotFound:
            not_found()
