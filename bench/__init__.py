"""`make bench`: Taskwire's benchmarks against their own local stack (the bench profile)."""
