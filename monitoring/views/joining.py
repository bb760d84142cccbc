"""Placeholder: replaced by its owner in this session."""

from django.http import Http404


def join(request):
    raise Http404


def join_submitted(request, application_id):
    raise Http404
