"""Workers on procrastinate: pipelines and keyed syncs as tasks in the ledger's PostgreSQL.

``tasks`` (the procrastinate app and its tasks), ``queue`` (:class:`JobQueue`, deferring from
anywhere), ``service`` (one worker process), ``settings`` (the config's ``workers:``),
``schedule`` (a pipeline's ``schedule:`` as a cron line), ``cli`` (``syncengine worker``).
Nothing here is imported by the engine: procrastinate loads only where workers are used.
"""
