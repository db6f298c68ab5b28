"""WSGI entry point: `gunicorn wsgi:app`."""

import gc

from referral import create_app

app = create_app()

# What start-up imported and built lives as long as the worker: move it out of the cyclic
# collector's way, so a full collection walks only what requests allocate. Without this, a
# full collection every dozen list requests took 80 ms (docs/benchmarks.md, "Garbage
# collection"). Here, not in create_app: tests and commands make many apps and need theirs
# collected.
gc.collect()
gc.freeze()
