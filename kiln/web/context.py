from django.conf import settings

from kiln.accounts.current import current_membership, memberships


def platform(request):
    """What every page's shell needs: platform name, the acting membership and the others to switch to."""
    return {
        "platform_name": settings.KILN_PLATFORM_NAME,
        "membership": current_membership(request),
        "memberships": memberships(getattr(request, "user", None)),
    }
