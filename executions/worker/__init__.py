"""The worker room (Celery): the task, the runner that drives the engine inside one asyncio loop with
its cancel watcher and lease, the recorder that stores the events and stage rows, the reaper beat runs,
and the SDK preload before the pool forks. Imports nothing of the web's rooms."""
