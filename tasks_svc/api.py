"""tasks_svc HTTP API: /api/tasks/ (list with filters, create, get, replace, change, delete)."""
from __future__ import annotations

import orjson
from flask import Response
from flask.views import MethodView
from webargs.flaskparser import abort  # what flask_smorest re-exports as abort, there without its types (NoReturn)

from taskwire_common.auth import current_principal, login_required
from taskwire_common.blueprint import Blueprint
from taskwire_common.pagination import fetch_rows_page, pagination_headers

from . import services
from .models import Task
from .schemas import TaskListArgsSchema, TaskPatchSchema, TaskSchema, TaskWriteSchema

blp = Blueprint("tasks", __name__, url_prefix="/api/tasks",
                description="Tasks: an admin sees and changes all, a user those assigned to them")


def task_or_404(task_id: int) -> Task:
    task = services.find_task(current_principal(), task_id)
    if task is None:
        abort(404, message="No task with that id.")
    return task


def task_response(task: dict, status: int = 200) -> Response:
    """The task JSON as written into its event, dumped once."""
    return Response(orjson.dumps(task), status=status, mimetype="application/json")


def refused(error: Exception):
    if isinstance(error, services.Forbidden):
        abort(403, message=str(error))
    abort(400, message=str(error), errors={"assigned_user": [str(error)]})


@blp.route("/")
class Tasks(MethodView):
    decorators = [login_required]

    @blp.arguments(TaskListArgsSchema(), location="query")
    @blp.response(200, TaskSchema(many=True))
    def get(self, args):
        """Tasks the caller may see, filtered, ordered and paginated."""
        page, page_size = args.pop("page"), args.pop("page_size")
        principal = current_principal()
        rows, total = fetch_rows_page(services.filtered_tasks(principal, args), page, page_size,
                                      few_rows=not principal.is_admin)  # a user's own tasks are few
        # The rows are the task JSON already (columns = fields); orjson writes them without a schema pass.
        return Response(orjson.dumps(rows), mimetype="application/json",
                        headers=pagination_headers(total, page, page_size))

    @blp.arguments(TaskWriteSchema())
    @blp.response(201, TaskSchema)
    def post(self, fields):
        """Create a task; a user's task is assigned to them."""
        try:
            task = services.create_task(current_principal(), fields)
        except (services.Forbidden, services.InvalidAssignee) as error:
            refused(error)
        return task_response(task, 201)


@blp.route("/<int:task_id>/")
class TaskDetail(MethodView):
    decorators = [login_required]

    @blp.response(200, TaskSchema)
    def get(self, task_id):
        return task_or_404(task_id)

    @blp.arguments(TaskWriteSchema)
    @blp.response(200, TaskSchema)
    def put(self, fields, task_id):
        """Replace every writable field; those left out take their defaults."""
        try:
            return task_response(services.replace_task(current_principal(), task_or_404(task_id), fields))
        except (services.Forbidden, services.InvalidAssignee) as error:
            refused(error)
        except services.TaskGone:
            abort(404, message="No task with that id.")

    @blp.arguments(TaskPatchSchema)
    @blp.response(200, TaskSchema)
    def patch(self, changes, task_id):
        """Change the fields given."""
        try:
            return task_response(services.update_task(current_principal(), task_or_404(task_id), changes))
        except (services.Forbidden, services.InvalidAssignee) as error:
            refused(error)
        except services.TaskGone:
            abort(404, message="No task with that id.")

    @blp.response(204)
    def delete(self, task_id):
        services.delete_task(current_principal(), task_or_404(task_id))
