"""The app as gunicorn serves it for the portal lookup benchmark: the lookup rate limit raised so
the load generator's few addresses are not refused (the limiter still runs, against Redis)."""
from app import create_app

app = create_app()
app.config["PORTAL_LOOKUP_RATE_LIMIT"] = "1000000 per minute"
