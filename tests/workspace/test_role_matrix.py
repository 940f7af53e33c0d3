"""Every workspace page checks a permission, and each role gets exactly the pages its permissions allow.

The routes are read from the URL configuration, so a page added later is covered without editing
this file: it fails here if its view forgets `staff_permission_required`.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from workspace.roles import ADMIN, MARKETING, ROLE_PERMISSIONS, SUPPORT

pytestmark = pytest.mark.django_db

# Pages any signed-in (or signed-out) person may open.
OPEN = {
    "workspace:login",
    "workspace:logout",
    "workspace:preferences",
    "workspace:password_set",  # opened from a one-time link, before the person can sign in
}
APP_NAMESPACES = {"workspace", "customers", "channels", "campaigns"}


def _routes(patterns=None, prefix="", namespace=None):
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or namespace
            yield from _routes(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern) and prefix.startswith("app/") and entry.name:
            yield f"{namespace}:{entry.name}", prefix + str(entry.pattern), entry.callback


def _app_routes():
    return [r for r in _routes() if r[0].split(":")[0] in APP_NAMESPACES]


def _permissions(callback) -> tuple[str, ...]:
    required = getattr(callback, "required_permission", None)
    if required is None:
        return ()
    return (required,) if isinstance(required, str) else tuple(required)


def test_every_workspace_view_checks_a_permission():
    missing = [name for name, _path, callback in _app_routes() if name not in OPEN]
    missing = [
        name
        for name in missing
        if not _permissions(dict((n, c) for n, _p, c in _app_routes())[name])
    ]
    assert not missing, f"views without staff_permission_required: {missing}"


def _plain_pages():
    """Routes without URL parameters: they can be opened as they are."""
    return [(name, "/" + path) for name, path, _cb in _app_routes() if "<" not in path]


@pytest.mark.parametrize("role", [SUPPORT, MARKETING, ADMIN])
def test_each_role_opens_exactly_the_pages_its_permissions_allow(client_as, role):
    client = client_as(role)
    held = {f"workspace.{codename}" for codename in ROLE_PERMISSIONS[role]}
    callbacks = {name: cb for name, _path, cb in _app_routes()}
    wrong = []
    for name, path in _plain_pages():
        if name in OPEN:
            continue
        response = client.get(path)
        if response.status_code == 405:
            continue  # an action: POST only, covered by its page's tests
        allowed = any(p in held for p in _permissions(callbacks[name]))
        expected = {200} if allowed else {403}
        if response.status_code == 302 and allowed:
            expected = {302}  # a page that forwards to its first tab or a default view
        if response.status_code not in expected:
            wrong.append(f"{path}: {response.status_code}, expected {sorted(expected)}")
    assert not wrong, "\n".join(wrong)
