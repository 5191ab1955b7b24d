from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from bookings_app import roles


@roles.require(roles.USE_FRONT_DESK)
def home(request: HttpRequest) -> HttpResponse:
    """The front door is Today."""
    return redirect("today")
