from __future__ import annotations

from pathlib import Path

from joinedup.synth.config import SynthConfig
from joinedup.synth.generate import PlaceSummary, generate_place

from .conftest import SMALL


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_the_same_seed_gives_byte_identical_files(small_place: PlaceSummary, tmp_path: Path) -> None:
    again = generate_place(tmp_path / "again", SynthConfig(people=SMALL, seed=3))
    first, second = _files(small_place.out_dir), _files(again.out_dir)
    assert first.keys() == second.keys()
    assert [name for name in first if first[name] != second[name]] == []


def test_another_seed_gives_another_place(small_place: PlaceSummary, tmp_path: Path) -> None:
    other = generate_place(tmp_path / "other", SynthConfig(people=SMALL, seed=4))
    patients = "feeds/gp/Patient.ndjson"
    assert (other.out_dir / patients).read_bytes() != (small_place.out_dir / patients).read_bytes()


def test_the_manifest_describes_the_feeds(small_place: PlaceSummary) -> None:
    import orjson

    manifest = orjson.loads((small_place.out_dir / "manifest.json").read_bytes())
    assert manifest["seed"] == 3 and manifest["config"]["people"] == SMALL
    for feed, types in manifest["counts"].items():
        for resource_type, count in types.items():
            path = small_place.out_dir / "feeds" / feed / f"{resource_type}.ndjson"
            assert sum(1 for _ in path.open("rb")) == count
    assert set(manifest["counts"]) == {"place", "gp", "acute", "community", "mentalhealth", "socialcare", "voluntary"}
