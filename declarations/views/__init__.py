"""The declarations pages, one module per flow; each module's `urlpatterns` is included by `urls.py`."""
