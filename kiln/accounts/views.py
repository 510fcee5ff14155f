from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from kiln.accounts.current import SESSION_KEY, memberships


@login_required
@require_POST
def switch_membership(request):
    """Act under another of the user's own memberships (never someone else's: 404)."""
    wanted = request.POST.get("membership", "")
    held = {str(m.id): m for m in memberships(request.user)}
    if wanted not in held:
        raise Http404
    request.session[SESSION_KEY] = held[wanted].id
    target = request.POST.get("next") or reverse("home")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        target = reverse("home")
    return HttpResponseRedirect(target)
