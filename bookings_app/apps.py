from django.apps import AppConfig


class BookingsAppConfig(AppConfig):
    name = "bookings_app"
    verbose_name = "Front Desk for Wix Bookings"
