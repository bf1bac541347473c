"""`/healthz` reports each dependency and names the failing one."""
from tests.fixtures.app import make_test_app


def test_healthy_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["checks"]["database"] == "ok"


def test_503_naming_the_database_when_it_is_down():
    app = make_test_app(SQLALCHEMY_DATABASE_URI="postgresql://postgres@127.0.0.1:1/nowhere",
                        SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"connect_timeout": 1}})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["failing"] == ["database"]


def test_503_naming_redis_when_it_is_down(_session_app):
    app = make_test_app(SQLALCHEMY_DATABASE_URI=_session_app.config["SQLALCHEMY_DATABASE_URI"],
                        REDIS_URL="redis://127.0.0.1:1/0")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["failing"] == ["redis"]
    assert response.json["checks"]["database"] == "ok"
