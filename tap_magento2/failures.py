"""The failures a run can end with for a reason the user can fix, and how they are reported.

A refused token, an unreachable host or a lasting 503 is not a bug: the user needs one
line that says what happened and what to do, not five chained tracebacks. The traceback
is still logged, at debug level (``TAP_MAGENTO2_LOGLEVEL=DEBUG`` or a logging config in
``SINGER_SDK_LOG_CONFIG``).
"""

from __future__ import annotations

import logging
import sys

from singer_sdk.exceptions import ConfigValidationError, FatalAPIError

from tap_magento2.keyset.pagination import PagingError

#: The SDK's own line for a stream that raised; the final error line says it better.
SDK_STREAM_FAILED = "An unhandled error occurred while syncing '%s'"


class AccessDeniedError(FatalAPIError):
    """Magento refused the endpoint and named the ACL resource the integration lacks."""

    def __init__(self, message: str, resource: str) -> None:
        super().__init__(message)
        self.resource = resource


class CredentialsError(FatalAPIError):
    """Magento refused the credentials themselves: no stream can be read with them."""


#: Failures that end a run with a message written for the user.
EXPECTED_FAILURES: tuple[type[BaseException], ...] = (
    FatalAPIError,
    PagingError,
    ConfigValidationError,
)


def is_expected(error: BaseException | None) -> bool:
    """True when ``error`` carries a message meant for the user (no traceback needed)."""
    return isinstance(error, EXPECTED_FAILURES)


def handling_expected_failure() -> bool:
    """True inside an ``except`` block whose exception is an expected failure."""
    return is_expected(sys.exc_info()[1])


def report(logger: logging.Logger, error: BaseException) -> None:
    """Log ``error`` as one ERROR line; the traceback follows only at debug level."""
    if isinstance(error, ConfigValidationError) and error.errors:
        for line in error.errors:
            logger.error("%s", line)
    else:
        logger.error("%s", error.args[0] if error.args else type(error).__name__)
    logger.debug("Traceback of the error above", exc_info=error)
