"""Registry events other apps act on, sent inside the transaction that makes them (so what they do is
atomic with it). The registry knows nothing of who listens: `declarations` ends a dismissed doctor's and a
closed facility's declarations.
"""

from django.dispatch import Signal

# Sent with employee_ids (list of UUIDs), actor, reason ("employee dismissed", "facility closed").
employees_dismissed = Signal()
