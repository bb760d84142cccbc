"""Settings of the staff benchmark's server: the API bench's (production settings), with its own URLs."""

from api_site_settings import *  # noqa: F403

ROOT_URLCONF = "staff_site"
