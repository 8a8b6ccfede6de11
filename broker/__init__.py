"""RabbitMQ topology of Taskwire: one source for the code that declares it and the file the broker loads."""
