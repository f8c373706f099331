"""`qec decode`: recorded detection events (a folder in Google's published layout, or the files one by one) decoded
with any decoder and stored as a task, by one call of `qec.recorded.decode_recorded`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Optional

import typer

from qec.cli.options import DEFAULT_STORE, Decoder, DecoderOption, Json, Plugin, StorePath, load_plugins
from qec.cli.output import echo_json
from qec.decoders import DecoderSpec
from qec.decoders.basis_inference import decoding_note
from qec.errors import QecInputError
from qec.recorded import SHOT_FORMATS, RecordedData, decode_recorded, parse_metadata
from qec.text import printable

_FORMATS = ", ".join(SHOT_FORMATS)
# The library's messages name its parameters (dem=FILE); this command's user knows the flags.
_PARAMETERS = {
    "dem": "--dem",
    "circuit": "--circuit",
    "detection_events": "--dets",
    "observable_flips": "--obs",
    "detection_events_format": "--dets-format",
    "observable_flips_format": "--obs-format",
    "predictions_format": "--predictions-format",
}
_PARAMETER = re.compile(r"(?<![\w/.-])(" + "|".join(_PARAMETERS) + r")=(FILE\S*)?")

ShotFormat = Optional[str]


def decode_command(
    folder: Annotated[
        Optional[Path],
        typer.Argument(
            help="A folder in Google's published layout: circuit_noisy.stim (or one .stim), optionally one .dem, "
            "detection_events.b8 (or .01, .r8, .ptb64, .dets) and obs_flips_actual.01; flags name files instead."
        ),
    ] = None,
    dem: Annotated[
        Optional[Path], typer.Option("--dem", help="The detector error model to decode with (a .dem file).")
    ] = None,
    circuit: Annotated[
        Optional[Path],
        typer.Option("--circuit", help="The circuit the shots come from (.stim); its DEM is decoded with if no --dem."),
    ] = None,
    dets: Annotated[Optional[Path], typer.Option("--dets", help="The detection events, one shot per record.")] = None,
    dets_format: Annotated[
        ShotFormat,
        typer.Option("--dets-format", help=f"The detection events' format: {_FORMATS} (default: extension)."),
    ] = None,
    obs: Annotated[
        Optional[Path], typer.Option("--obs", help="The observables' actual flips in the same shots.")
    ] = None,
    obs_format: Annotated[
        ShotFormat, typer.Option("--obs-format", help=f"The observable flips' format: {_FORMATS} (default: extension).")
    ] = None,
    decoder: Decoder = "pymatching",
    decoder_option: DecoderOption = None,
    plugin: Plugin = None,
    predictions: Annotated[
        Optional[Path], typer.Option("--predictions", help="Write the predicted observable flips here.")
    ] = None,
    predictions_format: Annotated[
        ShotFormat,
        typer.Option("--predictions-format", help=f"The predictions' format: {_FORMATS} (default: extension)."),
    ] = None,
    metadata: Annotated[
        Optional[list[str]],
        typer.Option(
            "--metadata",
            help="The task's metadata: KEY=VALUE (VALUE read as JSON, else text; repeatable) or a JSON object, e.g. "
            "--metadata d=5 --metadata rounds=25 --metadata p=0.001; distance and p place it in studies.",
        ),
    ] = None,
    store: StorePath = DEFAULT_STORE,
    as_json: Json = False,
) -> None:
    """Decode recorded detection events with any decoder and store the counts as a task (once, however often run)."""
    load_plugins(plugin)
    try:
        spec = DecoderSpec.parse(decoder, decoder_option or ())
        formats = {"detection_events_format": dets_format, "observable_flips_format": obs_format}
        if folder is not None:
            data = RecordedData.from_folder(
                folder, detection_events=dets, observable_flips=obs, dem=dem, circuit=circuit, **formats
            )
        elif dets is None or obs is None:
            raise QecInputError("give a FOLDER of recorded data, or the files: --dets FILE and --obs FILE")
        else:
            data = RecordedData.from_files(
                detection_events=dets, observable_flips=obs, dem=dem, circuit=circuit, **formats
            )
        note = decoding_note(data.circuit, decoder=spec.name, options=spec.options)
        if note and not as_json:
            typer.echo(printable(f"note: {note}"), err=True)
        record = decode_recorded(
            data,
            decoder=spec,
            metadata=parse_metadata(metadata or ()),
            store=store,
            predictions=predictions,
            predictions_format=predictions_format,
            show_progress=not as_json,
        )
    except QecInputError as error:
        raise QecInputError(_PARAMETER.sub(_flag, str(error))) from None
    if as_json:
        echo_json(record.as_dict())
    else:
        typer.echo(printable(record.describe()))


def _flag(match: re.Match[str]) -> str:
    """`dem=FILE` as `--dem FILE`, `detection_events_format='b9'` as `--dets-format 'b9'` (the library names
    parameters)."""
    valued = match[2] or (match.end() < len(match.string) and match.string[match.end()] not in " ),;:")
    return _PARAMETERS[match[1]] + (f" {match[2] or ''}" if valued else "")
