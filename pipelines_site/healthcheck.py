"""The web container's health check: ``python -m pipelines_site.healthcheck [URL]`` (docker-compose.yml).

It asks this container's Daphne for ``/api/health`` the way a client would and exits 0 only on
``{"ok": true}`` (the database and Redis answer). It imports no Django: Docker runs it every 15 s, and
setting Django up costs about a second of CPU each time.

The request names a host from ALLOWED_HOSTS, as a reverse proxy would: ``127.0.0.1`` is usually not
among a team server's allowed hosts, and Django answers 400 to a host it does not allow.
``/api/health`` is exempt from the HTTPS redirect (settings.SECURE_REDIRECT_EXEMPT), so plain HTTP
inside the container is enough.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request

DEFAULT_URL = "http://127.0.0.1:8000/api/health"


def host_header(allowed_hosts: str) -> str:
    """A host Django accepts: the first allowed one (``.example.com`` allows ``example.com``)."""
    for raw in allowed_hosts.split(","):
        host = raw.strip()
        if host and host != "*":
            return host.lstrip(".")
    return "localhost"


def main(argv: list[str]) -> int:
    url = argv[1] if len(argv) > 1 else DEFAULT_URL
    host = host_header(os.environ.get("ALLOWED_HOSTS", "localhost"))
    request = urllib.request.Request(url, headers={"Host": host, "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            body = json.loads(response.read())
    except urllib.error.HTTPError as err:
        print(f"unhealthy: HTTP {err.code} {err.read()[:300]!r}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as err:
        print(f"unhealthy: {err}", file=sys.stderr)
        return 1
    if body.get("ok") is not True:
        print(f"unhealthy: {body}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
