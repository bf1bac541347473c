"""Images for the photo tests, made here in code (nothing is read from outside the repository):
real photos with metadata, and hostile files that pretend to be photos."""
import io
import socket
import struct
import zipfile
import zlib

from PIL import Image

GPS_MARK = "Secret Street 7"  # written into the EXIF of `photo_with_metadata`; must never come back


def jpeg(size=(640, 480), colour=(200, 40, 40), pad_to: int | None = None) -> bytes:
    """A JPEG; `pad_to` appends bytes after its end marker (decoders ignore them) to make it big."""
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="JPEG", quality=90)
    data = out.getvalue()
    return data + b"\0" * (pad_to - len(data)) if pad_to else data


def photo_with_metadata() -> bytes:
    """A JPEG taken sideways (EXIF orientation 6) that carries a description and GPS text."""
    image = Image.new("RGB", (400, 200), (30, 120, 200))
    exif = Image.Exif()
    exif[0x0112] = 6                      # Orientation: rotate 90° to show upright
    exif[0x010E] = GPS_MARK               # ImageDescription
    exif[0x8825] = {2: (51.0, 30.0, 0.0)}  # GPSInfo: latitude
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes(), comment=GPS_MARK.encode())
    return out.getvalue()


def png(size=(300, 300), mode="RGBA") -> bytes:
    """A PNG (transparent by default)."""
    out = io.BytesIO()
    Image.new(mode, size, (0, 200, 0, 128) if mode == "RGBA" else (0, 200, 0)).save(out, format="PNG")
    return out.getvalue()


def webp(size=(320, 240)) -> bytes:
    """A WebP."""
    out = io.BytesIO()
    Image.new("RGB", size, (120, 60, 200)).save(out, format="WEBP")
    return out.getvalue()


def gif() -> bytes:
    """A real image, but not a format the portal takes."""
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, format="GIF")
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bomb(width=40_000, height=40_000) -> bytes:
    """A tiny PNG whose header claims width × height pixels (a decompression bomb: its IDAT is a
    small zlib stream of zeros that would inflate to gigabytes)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    rows = zlib.compress(b"\0" * (1024 * 1024), 9)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", rows) + _chunk(b"IEND", b"")


def zip_bomb() -> bytes:
    """A ZIP of 50 MB of zeros (a few KB) to be sent as "photo.jpg"."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.bin", b"\0" * (50 * 1024 * 1024))
    return out.getvalue()


def fake_png() -> bytes:
    """The PNG signature followed by anything but a PNG."""
    return b"\x89PNG\r\n\x1a\n" + b"<script>alert(1)</script>" * 40


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def use_photo_store(app, monkeypatch, settings: dict) -> None:
    """Point the app at a photo store for one test (the store is made again from the settings)."""
    from app.services.photos import _STORE_KEY

    for name, value in settings.items():
        monkeypatch.setitem(app.config, name, value)
    monkeypatch.delitem(app.extensions, _STORE_KEY, raising=False)


class FakeS3:
    """A fake S3: moto's server mode, listening on 127.0.0.1 (no AWS is reachable from the tests)."""

    def __init__(self):
        from moto.server import ThreadedMotoServer

        self.port = free_port()
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.count = 0

    def client(self):
        """A boto3 client of the fake."""
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id="fake", aws_secret_access_key="fake")

    def new_bucket(self) -> dict:
        """A fresh private bucket, and the app settings that use it."""
        self.count += 1
        name = f"photos-{self.count}"
        self.client().create_bucket(Bucket=name)
        return {"PHOTO_S3_BUCKET": name, "PHOTO_S3_ENDPOINT_URL": self.endpoint, "PHOTO_S3_REGION": "us-east-1",
                "PHOTO_S3_ACCESS_KEY_ID": "fake", "PHOTO_S3_SECRET_ACCESS_KEY": "fake"}

    def keys(self, bucket: str) -> list[str]:
        """The keys stored in `bucket`."""
        return [o["Key"] for o in self.client().list_objects_v2(Bucket=bucket).get("Contents", [])]

    def stop(self):
        """Stop the server."""
        self.server.stop()


class StoredPhotos:
    """What a test reads back from the store in use: the keys held, wherever they are."""

    def __init__(self, kind: str, root=None, s3: FakeS3 | None = None, bucket: str | None = None):
        self.kind, self.root, self.s3, self.bucket = kind, root, s3, bucket

    def keys(self) -> set[str]:
        """Every object key the store holds."""
        if self.kind == "s3":
            return set(self.s3.keys(self.bucket))
        return {p.name for p in self.root.rglob("*") if p.is_file()}
