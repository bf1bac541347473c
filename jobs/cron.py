"""RQ cron configuration: `rq cron jobs.cron --url $REDIS_URL` (run exactly one of these)."""
from rq import cron

from jobs.schedule import PERIODIC

for periodic in PERIODIC:
    cron.register(periodic.job, queue_name=periodic.job.spec.queue, cron=periodic.cron,
                  job_timeout=periodic.job.spec.timeout)
