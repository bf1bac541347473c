"""The error a request to the sandbox's store answers with."""


class SandboxError(ValueError):
    """A bad request to the store (unknown shop, bad argument); maps to HTTP 4xx."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status
