import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")
application = get_wsgi_application()

# Garbage collection in the long-running server process (gunicorn imports this module in each
# worker; bench/pages.py imports it the same way, so its figures include this).
#
# Once the app is loaded the process holds some 60,000 long-lived objects (Django, our modules,
# model metadata), and every full collection walked all of them again: 40–65 ms each in the
# bench, several times per 50 roster requests, which made the roster's p95 twice its median.
# ``gc.freeze()`` moves everything alive now into the permanent generation, which collections
# never walk (and, under gunicorn's --preload, leaves those pages shared between workers); a full
# collection then costs about a tenth of that. Reference cycles are still collected.
#
# The thresholds stay at CPython's defaults on purpose: raising the first one (tried: 10,000 to
# 50,000) only batches the same work into fewer, longer young collections — 15–25 ms each on the
# roster — and those pauses, not the full collections, then set the p95.
#
# What a request leaves behind matters as much: Django's template Context kept each page's
# objects in a reference cycle, for the full collections to walk and free; our template engine
# (backoffice/template_backend.py) breaks it, so a page's objects go with its response.
gc.collect()
gc.freeze()
