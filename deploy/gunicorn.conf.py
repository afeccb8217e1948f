"""gunicorn settings for production: `gunicorn -c deploy/gunicorn.conf.py app.wsgi:app`.

`shelter-match serve` uses the same kind of settings; this file is for deployments that
run gunicorn directly (systemd unit, container).
"""

import multiprocessing
import os

bind = os.environ.get("SHELTER_MATCH_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("SHELTER_MATCH_WORKERS", min(4, 2 * multiprocessing.cpu_count() + 1)))
worker_class = "gthread"
threads = 4
timeout = 30
graceful_timeout = 10
# Requests are small; refuse oversized request lines and headers early.
limit_request_line = 8190
limit_request_fields = 50
accesslog = "-"
# Never log query strings with tokens: tokens travel in headers only, and the access log
# records method, path, status and time.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'
forwarded_allow_ips = os.environ.get("SHELTER_MATCH_FORWARDED_ALLOW_IPS", "127.0.0.1")
