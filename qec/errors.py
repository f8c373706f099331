"""The one exception type for bad user input; the CLI turns it into a one-line error and exit code 2."""


class QecInputError(ValueError):
    """A value given by the user is invalid; the message names it, what is allowed, and the fix.

    >>> raise QecInputError("distance 4 is not allowed for 'shor': use an odd distance >= 3")
    Traceback (most recent call last):
    ...
    qec.errors.QecInputError: distance 4 is not allowed for 'shor': use an odd distance >= 3
    """
