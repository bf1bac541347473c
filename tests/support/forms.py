"""Form bodies a test client cannot build from a dict: raw bytes in a multipart body (a lone
surrogate's UTF-8 bytes, bytes that are no UTF-8 at all), which a url-encoded body would leave
percent-escaped."""

BOUNDARY = "XX"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


def multipart(fields: dict[str, bytes]) -> bytes:
    """A multipart/form-data body (boundary XX, see CONTENT_TYPE) with each field's raw bytes."""
    parts = [b'--XX\r\nContent-Disposition: form-data; name="' + name.encode() + b'"\r\n\r\n' + value + b"\r\n"
             for name, value in fields.items()]
    return b"".join(parts) + b"--XX--\r\n"
