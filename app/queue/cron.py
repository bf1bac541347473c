"""RQ cron configuration: `rq cron app.queue.cron --url $REDIS_URL` (run exactly one of these, or
`flask jobs cron`, which also survives Redis going away)."""
from rq import cron

from app.config import config_from_env
from app.queue.schedule import PERIODIC

for periodic in PERIODIC:
    cron.register(**periodic.cron_options(config_from_env().SWEEP_INTERVAL_SECONDS))
