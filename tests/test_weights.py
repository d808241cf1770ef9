"""Weight files declared beside methods: the declaration's checks, the one resolver (option,
then ``$MMIF_BENCH_WEIGHTS``, then the fetched store), hashing once per process, and the
provenance table of docs/methods.md generated from the declarations."""
from __future__ import annotations

import numpy as np
import pytest

from mmif_bench import Method, Option, WeightFile
from mmif_bench.registry import declared_weights, specs
from mmif_bench.weights import MissingWeightsError, find, hash_once, store, store_dir
from mmif_bench.weights.provenance import first_party_table, replace_block

FILE = WeightFile("Toy/model.pth", repository="someone/toy", commit="0" * 40,
                  path="models/model.pth", sha256="1" * 64)


class Toy(Method):
    name = "toy"
    weight_files = {"weights": FILE,
                    "extra": WeightFile("Toy/extra.pth", url="https://example.org/extra.pth",
                                        git_blob="2" * 40, optional=True)}
    options = {"weights": Option("", "the model", "path"), "extra": Option("", "more", "path")}

    def fuse(self, a: np.ndarray, b: np.ndarray, *, modality: str | None = None) -> np.ndarray:
        return a


@pytest.mark.parametrize("fields, message", [
    ({"name": "../x.pth", "url": "https://h/x", "sha256": "1"}, "relative path"),
    ({"name": "x.pth", "sha256": "1"}, "either url or repository"),
    ({"name": "x.pth", "url": "https://h/x", "repository": "a/b", "commit": "c", "path": "p",
      "sha256": "1"}, "either url or repository"),
    ({"name": "x.pth", "url": "https://h/x"}, "sha256 or git_blob"),
])
def test_a_declaration_that_cannot_be_fetched_or_verified_is_refused(fields, message) -> None:
    with pytest.raises(ValueError, match=message):
        WeightFile(**fields)


def test_a_github_file_downloads_from_its_pinned_commit() -> None:
    assert FILE.download_url == f"https://github.com/someone/toy/raw/{'0' * 40}/models/model.pth"
    assert FILE.source == "someone/toy @ 0000000: models/model.pth"


def test_the_option_then_the_environment_then_the_store(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("MMIF_BENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("MMIF_BENCH_WEIGHTS", str(tmp_path / "env"))
    with pytest.raises(MissingWeightsError, match=r"Toy/model\.pth not found in "
                       r"\$MMIF_BENCH_WEIGHTS.*someone/toy.*fetch weights toy.*toy:weights=PATH"):
        Toy().weight_path("weights")
    assert Toy.missing_weights() and Toy.missing_weights(weights=__file__) == []
    places = {"store": store_dir() / FILE.name, "env": tmp_path / "env" / FILE.name,
              "given": tmp_path / "given.pth"}
    for place in places.values():
        place.parent.mkdir(parents=True, exist_ok=True)
        place.write_bytes(b"w")
    assert Toy().weight_path("weights") == places["env"]
    assert Toy(weights=str(places["given"])).weight_path("weights") == places["given"]
    places["env"].unlink()
    assert Toy().weight_path("weights") == places["store"]
    assert find(str(tmp_path / "absent.pth"), FILE) is None  # a given path is not replaced


def test_the_record_holds_the_files_a_configuration_loads(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("MMIF_BENCH_WEIGHTS", str(tmp_path))
    (tmp_path / "Toy").mkdir()
    (tmp_path / "Toy" / "model.pth").write_bytes(b"model")
    assert Toy.weights_needed(Toy().config) == ["weights"]  # the optional one is not needed
    assert set(Toy().weights_record()) == {"weights"}
    (tmp_path / "Toy" / "extra.pth").write_bytes(b"extra")  # an optional file, found: used
    assert Toy().weights_in_use() == ["weights", "extra"]
    assert Toy().weights_record()["extra"]["file"] == "Toy/extra.pth"
    (tmp_path / "Toy" / "extra.pth").unlink()
    assert Toy().weights_record()["weights"]["file"] == "Toy/model.pth"  # its store name
    given = tmp_path / "mine.pth"
    given.write_bytes(b"extra")
    assert Toy(extra=str(given)).weights_record()["extra"]["file"] == "mine.pth"


def test_a_file_is_hashed_once_per_process(tmp_path, monkeypatch) -> None:
    calls = []
    real = store.HASHES["sha256"]
    monkeypatch.setitem(store.HASHES, "sha256", lambda path: calls.append(path) or real(path))
    path = tmp_path / "w.pth"
    path.write_bytes(b"weights")
    first = hash_once(path)
    assert hash_once(path) == first and len(calls) == 1
    path.write_bytes(b"other weights")  # another size: hashed again
    assert hash_once(path) != first and len(calls) == 2


def test_every_first_party_file_is_declared_once_with_a_licence() -> None:
    declared = declared_weights()
    ours = {name for name, spec in specs("methods").items() if spec.distribution == "mmif-bench"}
    files = [f for name in ours & set(declared) for top in declared[name].values()
             for f in top.with_companions()]
    assert len(files) == len({f.name for f in files}) == 31  # 24 + gesenet, macan, mcafusion,
    # prrgan + the dictionaries of csr (1) and csmca (2)
    assert all(f.licence and f.repository and f.commit for f in files)


def test_the_provenance_table_in_the_docs_is_generated_from_the_declarations(repo_root) -> None:
    docs = (repo_root / "docs" / "methods.md").read_text(encoding="utf-8")
    assert replace_block(docs, first_party_table()) == docs, (
        "docs/methods.md is stale: run python -m mmif_bench.weights.provenance --write "
        "docs/methods.md")
    assert all(f"`{f.name}`" in docs for top in declared_weights()["emfusion"].values()
               for f in top.with_companions())
