"""``syncengine daemon``: schedules, a durable webhook inbox and realtime keyed syncs in one process."""
