"""Celery tasks of the declarations app (autodiscovered as `declarations.tasks`): each flow's module."""

from .requests import *  # noqa: F403
from .sms import *  # noqa: F403
