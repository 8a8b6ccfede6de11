"""Local Taskwire stack: renders nginx and supervisord config and runs every process."""
