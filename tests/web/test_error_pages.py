"""Error pages wear the site's layout, say what happened in the user's language, and lead back home."""

from django.core.exceptions import PermissionDenied
from django.test import Client, RequestFactory
from django.urls import reverse
from django.views import defaults


def test_not_found_in_both_languages(client, world):
    client.force_login(world.e1_staff)
    zh = client.get("/no-such-page/")
    assert zh.status_code == 404 and 'data-error="404"' in zh.text and "页面不存在" in zh.text
    assert 'class="topbar"' in zh.text  # the site's own layout, not the server's bare page
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    en = client.get("/no-such-page/")
    assert en.status_code == 404 and "Page not found" in en.text


def test_an_object_outside_the_scope_is_the_same_404(client, world):
    client.force_login(world.e1_staff)
    other = client.get(reverse("registry:enterprise-detail", args=[world.e2.credit_code]))
    assert other.status_code == 404 and 'data-error="404"' in other.text


def test_forbidden(world, rf: RequestFactory):
    request = rf.get("/")
    request.user = world.e1_staff
    response = defaults.permission_denied(request, PermissionDenied())
    assert response.status_code == 403 and 'data-error="403"' in response.content.decode()


def test_an_expired_form_is_explained(world):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("account_login"), {"login": "x", "password": "y"})
    assert response.status_code == 403 and 'data-error="403-csrf"' in response.text
    assert "表单已过期" in response.text


def test_server_error_page_needs_no_context(rf: RequestFactory):
    response = defaults.server_error(rf.get("/"))
    body = response.content.decode()
    assert response.status_code == 500 and 'data-error="500"' in body and "Server error" in body
