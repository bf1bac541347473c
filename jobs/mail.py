"""Email jobs: send one stored outbox email over SMTP."""
from app.queue import job
from app.services.mail import send_email


@job
def send_outbox_email_job(email_id: int) -> str:
    """Send an outbox email; a second run finds it sent and does nothing."""
    return send_email(email_id)
