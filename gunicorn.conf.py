"""gunicorn settings for the web service (read from the working directory, /app in the image).

The access log records the path without its query string and without the referrer: a query
string or a referring URL can hold what someone searched for (a client's name or phone
number), and the access log is not an access-controlled record.
"""

accesslog = "-"
# %(U)s is the path only (%(r)s and %(q)s would add the query string; %(f)s is the referrer).
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s" %(M)sms'


def post_worker_init(worker):
    """Before a worker serves: the URL map, translations and every template loaded
    (crisisnotes.warmup), so nobody waits ~1 s for a fresh worker's first page."""
    from crisisnotes.warmup import warm

    warm()
