"""Team mirror management: publishing verified models to an S3-compatible bucket
(``publish``), listing, verifying and pruning it (``inspect``), and the service's
auto-publish (``auto``). Above the store (it reads verified blobs and their records),
below the API and the CLI."""
