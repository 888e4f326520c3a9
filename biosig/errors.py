"""The package's own exception types: every expected failure is one of these."""


class BiosigError(Exception):
    """Base class for all errors the package raises on purpose."""


class ConfigError(BiosigError, ValueError):
    """A configuration file or object is invalid; the message names the key."""


class DataError(BiosigError, ValueError):
    """Input data is unusable; the message names the file, subject, channel or field."""
