"""What every Taskwire service shares: settings, logging, errors, tokens, events, outbox."""
