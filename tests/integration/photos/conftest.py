"""Photo tests run against both stores: the local directory (the embedded default) and S3, here a
fake S3 (moto's server mode on 127.0.0.1; no AWS is reachable from the tests)."""
import pytest

from tests.support.photos import FakeS3, StoredPhotos, use_photo_store


@pytest.fixture(scope="session")
def fake_s3():
    """One fake S3 server for the session (each test gets its own bucket)."""
    server = FakeS3()
    yield server
    server.stop()


@pytest.fixture(params=["local", "s3"])
def stored(request, app, tmp_path, monkeypatch) -> StoredPhotos:
    """The app's photo store for this test, in each configuration, and a way to list what it holds."""
    if request.param == "s3":
        s3 = request.getfixturevalue("fake_s3")
        settings = s3.new_bucket()
        use_photo_store(app, monkeypatch, settings)
        return StoredPhotos("s3", s3=s3, bucket=settings["PHOTO_S3_BUCKET"])
    use_photo_store(app, monkeypatch, {"PHOTO_DIR": str(tmp_path / "photos"), "PHOTO_S3_BUCKET": None})
    return StoredPhotos("local", root=tmp_path / "photos")


@pytest.fixture
def local_store(app, tmp_path, monkeypatch) -> StoredPhotos:
    """The local directory store only (tests of the upload checks, which write nothing either way)."""
    use_photo_store(app, monkeypatch, {"PHOTO_DIR": str(tmp_path / "photos"), "PHOTO_S3_BUCKET": None})
    return StoredPhotos("local", root=tmp_path / "photos")
