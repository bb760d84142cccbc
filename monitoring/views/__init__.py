"""Pages of the monitoring app: `joining` (a CNAP's application to join), `quality` (dashboards)."""
