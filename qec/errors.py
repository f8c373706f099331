"""The one exception type for bad user input; the CLI turns it into a one-line error and exit code 2.
Also `Interrupted`, what collect() raises on Ctrl-C."""

from __future__ import annotations

from typing import Iterable


class QecInputError(ValueError):
    """A value given by the user is invalid; the message names it, what is allowed, and the fix.

    >>> raise QecInputError("distance 4 is not allowed for 'shor': use an odd distance >= 3")
    Traceback (most recent call last):
    ...
    qec.errors.QecInputError: distance 4 is not allowed for 'shor': use an odd distance >= 3
    """


class Interrupted(KeyboardInterrupt):
    """collect() was stopped by Ctrl-C (or, in the CLI, SIGTERM): its workers are stopped, and the
    `chunks_kept` chunks it committed before that are in the store, so a rerun resumes from them.

    A KeyboardInterrupt, so code that catches Ctrl-C catches it too.

    >>> error = Interrupted(3)
    >>> str(error), error.chunks_kept, isinstance(error, KeyboardInterrupt)
    ('interrupted: 3 chunks kept; rerun to resume', 3, True)
    """

    def __init__(self, chunks_kept: int):
        super().__init__(f"interrupted: {chunks_kept} chunk{'' if chunks_kept == 1 else 's'} kept; rerun to resume")
        self.chunks_kept = chunks_kept


def unknown_choice(kind: str, value: object, choices: Iterable[str]) -> QecInputError:
    """The error for a name that is not in a registry: it names the value and lists the choices.

    >>> str(unknown_choice("decoder", "mwpm", ["pymatching", "uf"]))
    "unknown decoder 'mwpm': choose one of pymatching, uf"
    """
    return QecInputError(f"unknown {kind} {value!r}: choose one of {', '.join(choices)}")
