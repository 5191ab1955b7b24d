from django.apps import AppConfig


class BookingsAppConfig(AppConfig):
    name = "bookings_app"
    verbose_name = "Front Desk for Wix Bookings"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from bookings_app import checks, tasks  # noqa: F401 - registers the checks; connects the task receivers
        from bookings_app.middleware import session_stamp_at_sign_in
        from bookings_app.services.wix_reachability import wix_reachability_record
        from bookings_app.wix import reachability

        # Every Wix attempt's outcome, for the header's "Wix unreachable" (services/wix_reachability.py).
        reachability.listen(wix_reachability_record)
        # Signing in starts the idle timeout (middleware.SessionIdle).
        user_logged_in.connect(session_stamp_at_sign_in, dispatch_uid="desk-session-stamp")
