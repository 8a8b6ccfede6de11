"""What bench, chaos and the e2e tests share: running a stack, signing in, seeding, load, sockets, /proc, AMQP."""
