"""Numbers as short text for messages: counts that may be astronomically large, integers as given.

>>> approximate(10**12), shown_integer(10001)
('1e+12', '10001')
"""

from __future__ import annotations


def approximate(count: int) -> str:
    """A count as a short number: exact below 10^6, else 3 significant digits; safe for any int.

    >>> approximate(999_000), approximate(10**12), approximate(10**5000)
    ('999,000', '1e+12', '2^16609')
    """
    if count < 1_000_000:
        return f"{count:,}"
    if count.bit_length() > 1000:  # beyond a float, and str() of it may be refused
        return f"2^{count.bit_length() - 1}"
    return f"{float(count):.3g}"


def shown_integer(value: int) -> str:
    """An integer parameter as given (digits), or approximated when it is too long to print.

    >>> shown_integer(10001), shown_integer(-3), shown_integer(10**100)
    ('10001', '-3', '1e+100')
    """
    if abs(value).bit_length() <= 64:
        return str(value)
    return ("-" if value < 0 else "") + approximate(abs(value))
