from django.apps import AppConfig


class BookingsAppConfig(AppConfig):
    name = "bookings_app"
    verbose_name = "Front Desk for Wix Bookings"

    def ready(self) -> None:
        from bookings_app import checks, tasks  # noqa: F401 - registers the checks; connects the task receivers
        from bookings_app.services.wix_reachability import wix_reachability_record
        from bookings_app.wix import reachability

        reachability.listen(wix_reachability_record)
