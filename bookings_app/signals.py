"""How a service asks for background work without importing the tasks that do it: ``tasks``
imports the services and listens here; the services never import ``tasks``."""

from django.dispatch import Signal

# Desk actions were written or put back in the queue (sent after the transaction commits).
# ``run_after``: when the earliest of them may be pushed. ``tasks`` queues the push for then.
desk_actions_queued = Signal()

# A participant import has rows to release or to follow (``services.imports``); ``run_after``: when
# its runner should look. ``tasks`` queues the run for then.
imports_queued = Signal()

# Wix answers again after an outage (``services.wix_reachability``). ``tasks`` brings the next poll
# forward to now: the mirror is as old as the outage, and the header says "Wix is not answering"
# until a sync has succeeded again.
wix_answers_again = Signal()
