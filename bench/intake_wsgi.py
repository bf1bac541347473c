"""The app as gunicorn serves it in production (`wsgi:app`), plus `/noop`: a Flask endpoint
that does nothing, the baseline the intake benchmark compares against in the same server and
process."""
from app.extensions import csrf
from wsgi import app


@app.post("/noop")
@csrf.exempt
def noop():
    """Read the body and answer 200: Flask's own cost, no database, no Redis."""
    from flask import request

    request.get_data()
    return {}
