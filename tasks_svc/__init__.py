"""tasks_svc: task CRUD, filters, permissions, the outbox and its relay."""
