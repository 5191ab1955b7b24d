"""Tests of the Wix sandbox. They mirror ``wix_sandbox/``.

The rule: the tests of module ``wix_sandbox.a.b`` (``a/b.py``, or the package ``a/b/``) are in
``tests/wix_sandbox/a/test_b.py``; a test lives with the module whose behaviour it asserts. For an
HTTP test of one endpoint that is the module routing it (or the helper module it names in its
docstring, e.g. ``handlers/bookings/slots.py``); a test that calls a rule directly, or follows a
flow from one Wix area into another (a booking paid through its order, plan credits charged at
checkout, a plan order moving with the clock), is the rule's, under ``tests/wix_sandbox/rules/``.

``builders.py`` and ``plan_builders.py`` arrange the sandbox's state (other test packages use them
too); ``*_builders.py`` hold the request builders and answer checks one area's tests share.
"""
