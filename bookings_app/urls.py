from django.urls import path

from bookings_app.views import auth, home, roster, today

urlpatterns = [
    path("", home.home, name="home"),
    path("login/", auth.login, name="login"),
    path("logout/", auth.logout, name="logout"),
    path("today/", today.today, name="today"),
    path("sessions/<str:ref>/", roster.roster, name="roster"),
    path("sessions/<str:ref>/print/", roster.roster_print, name="roster_print"),
]
