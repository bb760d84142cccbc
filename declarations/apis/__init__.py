"""The declarations API (eHealth §4), one module per resource; each module's `urlpatterns` is included."""
