"""milvus-platform-baseline: the CrossGuard policy pack (rules, catalog) and a client for its analyzer service.

A regular package so the program's tools and tests import it as `policies.*`; `__main__.py` is what the
Pulumi CLI runs.
"""
