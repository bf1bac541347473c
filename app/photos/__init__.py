"""The photos adapter: reading and re-encoding an uploaded image (images.py) and keeping the bytes
on local disk or in S3-compatible object storage (storage.py). No Flask, no database."""
