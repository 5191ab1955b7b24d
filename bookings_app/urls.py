from django.urls import path

from bookings_app.views import home

urlpatterns = [
    path("", home.home, name="home"),
]
