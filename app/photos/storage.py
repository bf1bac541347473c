"""Where photo bytes live: a local directory (the embedded default) or a private bucket of an
S3-compatible object store (boto3). The app reads the bytes and sends them itself after its
access check, so nothing here makes public or presigned links, and objects get no public ACL.

Keys are random (`new_key`), never derived from ids, and only keys of that shape are accepted, so
a key read from a URL can never name a path outside the directory.
"""
from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import Protocol

KEY = re.compile(r"\A[A-Za-z0-9_-]{32}\Z", re.ASCII)


def new_key() -> str:
    """A fresh object key: 24 random bytes, URL-safe (32 characters)."""
    return secrets.token_urlsafe(24)


def valid_key(key: str) -> bool:
    """Whether `key` has the shape `new_key` makes (anything else names no photo)."""
    return bool(KEY.fullmatch(key or ""))


class PhotoStore(Protocol):
    """What the app needs of a photo store."""

    def put(self, key: str, data: bytes, content_type: str) -> None: ...  # noqa: D102
    def get(self, key: str) -> bytes | None: ...  # noqa: D102
    def delete(self, key: str) -> None: ...  # noqa: D102


class LocalStore:
    """Photos as files under one directory (created on first write; files readable by the owner only)."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not valid_key(key):
            raise ValueError("not a photo key")
        return self.root / key[:2] / key

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Write the object (a temporary name first, so a reader never sees half a photo)."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial = path.with_suffix(".part")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(partial, path)

    def get(self, key: str) -> bytes | None:
        """The object's bytes, or None when there is none."""
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, ValueError):
            return None

    def delete(self, key: str) -> None:
        """Remove the object; removing one already gone does nothing (safe to run twice)."""
        try:
            self._path(key).unlink()
        except (FileNotFoundError, ValueError):
            pass


class S3Store:
    """Photos as private objects of one bucket. Credentials, endpoint and region come from the
    settings (or boto3's usual environment when those are empty)."""

    def __init__(self, bucket: str, *, endpoint_url: str | None = None, region: str | None = None,
                 access_key_id: str | None = None, secret_access_key: str | None = None, client=None):
        self.bucket = bucket
        if client is None:
            import boto3  # here: boto3 takes a while to import and only S3 deployments need it
            from botocore.config import Config as BotoConfig  # same reason
            client = boto3.client("s3", endpoint_url=endpoint_url or None, region_name=region or None,
                                  aws_access_key_id=access_key_id or None,
                                  aws_secret_access_key=secret_access_key or None,
                                  config=BotoConfig(retries={"max_attempts": 3, "mode": "standard"},
                                                    connect_timeout=5, read_timeout=30))
        self.client = client

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Upload the object (private: no ACL is set, so the bucket's own, private, applies)."""
        if not valid_key(key):
            raise ValueError("not a photo key")
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def get(self, key: str) -> bytes | None:
        """The object's bytes, or None when there is none."""
        if not valid_key(key):
            return None
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=key)
        except self.client.exceptions.NoSuchKey:
            return None
        return answer["Body"].read()

    def delete(self, key: str) -> None:
        """Remove the object; removing one already gone does nothing (safe to run twice).

        Amazon S3 answers success for a key that does not exist ("If you delete an object that does
        not exist, Amazon S3 will return a success", https://docs.aws.amazon.com/sdkfornet1/latest/
        apidocs/html/M_Amazon_S3_AmazonS3_DeleteObject.htm), but some S3-compatible stores answer
        404 NoSuchKey (Google Cloud Storage's XML API: https://cloud.google.com/storage/docs/xml-api/
        delete-object), which means the same here."""
        if not valid_key(key):
            return
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except self.client.exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") not in ("NoSuchKey", "404"):
                raise


def store_from_settings(settings: dict) -> PhotoStore:
    """S3 when PHOTO_S3_BUCKET is set, else the local directory PHOTO_DIR."""
    if settings.get("PHOTO_S3_BUCKET"):
        return S3Store(settings["PHOTO_S3_BUCKET"], endpoint_url=settings.get("PHOTO_S3_ENDPOINT_URL"),
                       region=settings.get("PHOTO_S3_REGION"),
                       access_key_id=settings.get("PHOTO_S3_ACCESS_KEY_ID"),
                       secret_access_key=settings.get("PHOTO_S3_SECRET_ACCESS_KEY"))
    return LocalStore(settings["PHOTO_DIR"])
