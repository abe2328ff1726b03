"""The views: each takes a request and returns a response."""

from django.http import HttpRequest, HttpResponse


def index(request: HttpRequest) -> HttpResponse:
    """The greeting, as plain text."""
    return HttpResponse("Hello, world!", content_type="text/plain; charset=utf-8")
