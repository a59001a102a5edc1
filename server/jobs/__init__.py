"""Background jobs: large exports and print batches run apart from the request that asked for
them, on procrastinate (PostgreSQL) or in a thread of the server (SQLite); the job's row says
how far it is and, when done, which file to download. See docs/jobs.md."""
