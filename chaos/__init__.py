"""make chaos: the long fault run, the long API fuzz and the soak."""
