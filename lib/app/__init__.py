"""Running the app: the command line, backups, warm-up, demo data, hand-off and the folder watcher."""
