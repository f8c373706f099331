"""Other tools' metadata mapped onto ours at read time: the table of `qec.metadata`, `;` or `,` in `.stim` file
names, and a sinter CSV written by real `sinter.collect` read back with p, distance and family."""

import sinter
import stim

from qec.circuit_files import metadata_from_name
from qec.metadata import mapped_metadata
from qec.stats import Point
from qec.store import Store
from qec.study import read_points
from qec.task import Counts, TaskTotals


def test_each_foreign_key_maps_onto_ours_and_stays():
    foreign = {
        "error_rate": 0.002,
        "d": 5,
        "r": 15,
        "noise_model": "si1000",
        "b": "x",
        "circuit": "surface_code:unrotated_memory_z",
    }
    mapped = mapped_metadata(foreign)
    assert {key: mapped[key] for key in ("p", "distance", "rounds", "noise", "basis", "family")} == {
        "p": 0.002,
        "distance": 5,
        "rounds": 15,
        "noise": "si1000",
        "basis": "X",  # the row's own basis wins over the one the Stim circuit name implies
        "family": "unrotated-surface",
    }
    assert all(mapped[key] == value for key, value in foreign.items())  # foreign keys stay, for --where
    assert foreign == {  # the input is not changed (the store's rows never are)
        "error_rate": 0.002,
        "d": 5,
        "r": 15,
        "noise_model": "si1000",
        "b": "x",
        "circuit": "surface_code:unrotated_memory_z",
    }


def test_our_keys_win_and_values_of_the_wrong_type_are_not_mapped():
    assert mapped_metadata({"p": 0.01, "error_rate": 0.5, "distance": 7, "d": 3}) == {
        "p": 0.01,
        "error_rate": 0.5,
        "distance": 7,
        "d": 3,
    }
    assert mapped_metadata({"error_rate": 2.0, "d": "three", "r": 0, "b": "q", "circuit": 3, "noise_model": ""}) == {
        "error_rate": 2.0,
        "d": "three",
        "r": 0,
        "b": "q",
        "circuit": 3,
        "noise_model": "",
    }
    assert mapped_metadata({"physical_error_rate": 1e-3, "code_distance": 9.0})["distance"] == 9
    # `code` names one code, not a family: it is not mapped
    assert "family" not in mapped_metadata({"code": "gross"})


def test_stim_generated_circuit_names_map_to_our_families():
    names = {
        "repetition_code:memory": ("repetition", None),
        "surface_code:rotated_memory_x": ("surface", "X"),
        "surface_code:rotated_memory_z": ("surface", "Z"),
        "surface_code:unrotated_memory_x": ("unrotated-surface", "X"),
        "color_code:memory_xyz": ("color", None),
        "my_own_circuit": ("my_own_circuit", None),
    }
    for circuit, (family, basis) in names.items():
        mapped = mapped_metadata({"circuit": circuit})
        assert (mapped["family"], mapped.get("basis")) == (family, basis), circuit
    assert mapped_metadata({"circuit": "surface_code:rotated_memory_x", "family": "mine"})["family"] == "mine"


def test_file_names_with_semicolons_or_commas_give_the_same_metadata():
    commas = metadata_from_name("d=5,error_rate=0.001,circuit=rep.stim")
    semicolons = metadata_from_name("d=5;error_rate=0.001;circuit=rep.stim")
    assert commas == semicolons == {"d": 5, "error_rate": 0.001, "circuit": "rep", "distance": 5}
    assert metadata_from_name("d=3;p=0.01,r=9.stim") == {"d": 3, "p": 0.01, "r": 9, "distance": 3, "rounds": 9}


def test_points_read_p_distance_and_family_through_the_mapping():
    point = Point.from_totals(
        TaskTotals("ab12", "uf", {"d": 3, "error_rate": 0.01, "circuit": "rep", "r": 6}, Counts(100, 3), 1, 1)
    )
    assert (point.family, point.distance, point.rounds, point.p, point.is_placed) == ("rep", 3, 6, 0.01, True)


def sinter_csv(tmp_path, **collect_options):
    """A sinter CSV from real `sinter.collect` on small repetition codes, with other tools' metadata keys."""
    tasks = [
        sinter.Task(
            circuit=stim.Circuit.generated(
                "repetition_code:memory", distance=d, rounds=d, before_round_data_depolarization=error_rate
            ),
            json_metadata={"d": d, "error_rate": error_rate, "circuit": "rep"},
        )
        for d in (3, 5)
        for error_rate in (0.01, 0.05)
    ]
    stats = sinter.collect(num_workers=1, tasks=tasks, decoders=["pymatching"], max_shots=2000, **collect_options)
    path = tmp_path / "sinter.csv"
    path.write_text(sinter.CSV_HEADER + "\n" + "\n".join(stat.to_csv_line() for stat in stats) + "\n")
    return path, stats


def test_a_sinter_csv_from_sinter_collect_reads_as_our_points(tmp_path):
    path, stats = sinter_csv(tmp_path, count_observable_error_combos=True)
    with Store(tmp_path / "s.db") as store:
        store.import_sinter_csv(path.read_text(), source="sinter.csv")
    points = read_points(tmp_path / "s.db").points
    assert sorted((pt.family, pt.distance, pt.p, pt.decoder) for pt in points) == [
        ("rep", d, p, "pymatching") for d in (3, 5) for p in (0.01, 0.05)
    ]
    by_key = {(stat.json_metadata["d"], stat.json_metadata["error_rate"]): stat for stat in stats}
    for point in points:
        stat = by_key[point.distance, point.p]
        assert (point.counts.shots, point.counts.errors) == (stat.shots, stat.errors)
        # sinter's obs_mistake_mask counts give the per-observable errors (one observable here) when there are
        # errors to count; with none, sinter writes no mask and the count is unknown
        assert point.observable_errors == ((stat.errors,) if stat.errors else None)
