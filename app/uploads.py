"""The request body limit of the forms that carry photos.

Every other request keeps MAX_CONTENT_LENGTH (2 MB). The limit must be known before anything reads
the body, and CSRF protection reads it in an app-wide before_request ahead of any view, so a view
setting `request.max_content_length` would be too late: the request class chooses it by endpoint.
"""
from flask import Request, current_app, make_response

# Endpoints whose forms carry photo files (multipart).
PHOTO_ENDPOINTS = frozenset({"portal.items"})


class UploadRequest(Request):
    """Flask's request, with PHOTO_REQUEST_MAX_BYTES as the body limit of PHOTO_ENDPOINTS."""

    @property
    def max_content_length(self) -> int | None:
        """PHOTO_REQUEST_MAX_BYTES on a photo form, else Flask's (MAX_CONTENT_LENGTH, or as set)."""
        if self._max_content_length is None and current_app and self.endpoint in PHOTO_ENDPOINTS:
            return current_app.config["PHOTO_REQUEST_MAX_BYTES"]
        return Request.max_content_length.fget(self)

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value


def photo_response(photo, data: bytes):
    """A stored photo as the app sends it, after the caller's access check: its image type, never
    kept by a shared cache nor stored at all (personal data), never sniffed as anything else,
    shown inline."""
    response = make_response(data)
    response.headers["Content-Type"] = photo.content_type
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = 'inline; filename="photo.jpg"'
    return response
