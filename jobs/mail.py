"""Email jobs: send one stored outbox email over SMTP."""
from app.services.mail import send_email
from jobs.queue import job


@job(queue="default", timeout=60, retry_intervals=(30, 300, 1800))
def send_outbox_email(email_id: int) -> str:
    """Send an outbox email; a second run finds it sent and does nothing."""
    return send_email(email_id)
