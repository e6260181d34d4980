"""The store package's exceptions."""


class StoreError(Exception):
    """Base class for every error raised by store/."""

    status = 500


class ReadOnlyStore(StoreError):
    """A write was asked of a store opened read-only."""

    status = 403


class StoreCorrupt(StoreError):
    """The data directory holds something this version cannot read."""
