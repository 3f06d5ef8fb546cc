"""What operators watch: Prometheus metrics of one process and where they are served.

`metrics.Metrics` holds every metric family on a registry of its own, built by the entry point (the
console script, or `create_app` when it is given none) and passed down to the components that record;
`exposition` serves that registry on the API port at `/metrics` or on a bind of its own.
Nothing here is built at import time.
"""
