"""Queueing Celery tasks after commit without letting a broker outage fail the request.

Every task the portal queues has a beat sweep that finds its work in the database and queues it
again (pending emails, submitted applications, queued pull runs), so a message that cannot be
published is logged and left to that sweep: the user's request still succeeds.
"""

import logging

from django.db import transaction
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)


def enqueue_on_commit(task, *args) -> None:
    """Queue `task(*args)` once the current transaction commits; a broker outage is only logged."""

    def publish():
        try:
            task.delay(*args)
        except (OperationalError, OSError):
            if task.app.conf.task_always_eager:  # in-process tasks: the error is the task's, not the broker's
                raise
            logger.warning("Broker unreachable: %s%r is left to its sweep", task.name, args, exc_info=True)

    transaction.on_commit(publish)
