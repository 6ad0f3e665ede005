"""The live room: the event relay (a Redis Stream per running execution, cancel and lease keys),
the hub that shares one Redis reader per execution among a web process's viewers, and the JSON SSE
endpoint. relay runs in the worker and the web; hub and sse in the web alone."""
