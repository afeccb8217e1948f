"""gunicorn settings for production: `gunicorn -c deploy/gunicorn.conf.py app.wsgi:app`.

`shelter-match serve` uses the same settings (api/cli.py); this file is for deployments that
run gunicorn directly (the systemd unit, the container). Behind the proxy of
deploy/nginx.conf: listen on 127.0.0.1 only, and set SHELTER_MATCH_PROXY_COUNT=1.
"""

import multiprocessing
import os

from app.cli import SERVER_SETTINGS, hide_server_header

bind = os.environ.get("SHELTER_MATCH_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("SHELTER_MATCH_WORKERS", min(4, 2 * multiprocessing.cpu_count() + 1)))
worker_class = SERVER_SETTINGS["worker_class"]
threads = SERVER_SETTINGS["threads"]
timeout = SERVER_SETTINGS["timeout"]
graceful_timeout = SERVER_SETTINGS["graceful_timeout"]
control_socket_disable = SERVER_SETTINGS["control_socket_disable"]
# Requests are small; refuse oversized request lines and headers early.
limit_request_line = 8190
limit_request_fields = 50
accesslog = "-"
# Never log query strings with tokens: tokens travel in headers only, and the access log
# records method, path, status and time.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'
forwarded_allow_ips = os.environ.get("SHELTER_MATCH_FORWARDED_ALLOW_IPS", "127.0.0.1")

# No `Server: gunicorn` on any answer (SECURITY.md); runs in the master, before the fork.
hide_server_header()
