"""notify_svc: the notification API, and the consumer that turns task events into notifications."""
