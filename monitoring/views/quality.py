"""Placeholder: replaced by its owner in this session."""

from django.http import Http404


def dashboard(request):
    raise Http404


def dashboard_csv(request):
    raise Http404


def regions(request):
    raise Http404
