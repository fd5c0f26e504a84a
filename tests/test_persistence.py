"""adaptive_runner.persistence: atomic, optionally compressed saving and loading."""

from __future__ import annotations

import gzip
import os
import pickle
import stat

import numpy as np
import pytest

from adaptive_runner import persistence, utils

GZIP_MAGIC = b"\x1f\x8b"


class RefusesPickling:
    """A real pickling failure (no mocks): cloudpickle cannot serialize this object."""

    def __reduce__(self):
        raise pickle.PicklingError("RefusesPickling deliberately refuses to be pickled")


def sample_data():
    offset = 3
    return {
        "array": np.arange(6.0).reshape(2, 3),
        "nested": [{"a": 1}, (2, "three"), None],
        "closure": lambda x: x + offset,
    }


def assert_sample(loaded):
    np.testing.assert_array_equal(loaded["array"], np.arange(6.0).reshape(2, 3))
    assert loaded["nested"] == [{"a": 1}, (2, "three"), None]
    assert loaded["closure"](1) == 4


@pytest.mark.parametrize("compress", [True, False], ids=["compressed", "uncompressed"])
def test_round_trip(tmp_path, compress):
    fname = tmp_path / "data.pickle"
    persistence.save(fname, sample_data(), compress=compress)
    assert_sample(persistence.load(fname, compress=compress))


def test_str_paths_work(tmp_path):
    fname = str(tmp_path / "data.pickle")
    persistence.save(fname, [1, 2, 3])
    assert persistence.load(fname) == [1, 2, 3]


def test_compress_flag_decides_the_file_format(tmp_path):
    compressed = tmp_path / "compressed.pickle"
    plain = tmp_path / "plain.pickle"
    data = list(range(1000)) * 5
    persistence.save(compressed, data, compress=True)
    persistence.save(plain, data, compress=False)
    assert compressed.read_bytes()[:2] == GZIP_MAGIC
    assert plain.read_bytes()[:2] != GZIP_MAGIC
    assert pickle.loads(gzip.decompress(compressed.read_bytes())) == data
    assert pickle.loads(plain.read_bytes()) == data
    assert compressed.stat().st_size < plain.stat().st_size


def test_compress_is_the_default(tmp_path):
    fname = tmp_path / "data.pickle"
    persistence.save(fname, {"x": 1})
    assert fname.read_bytes()[:2] == GZIP_MAGIC
    assert persistence.load(fname) == {"x": 1}


def test_loading_an_uncompressed_file_as_compressed_explains_the_fix(tmp_path):
    fname = tmp_path / "plain.pickle"
    persistence.save(fname, {"x": 1}, compress=False)
    with pytest.raises(ValueError, match=r"not gzip-compressed.*compress=False"):
        persistence.load(fname, compress=True)
    assert persistence.load(fname, compress=False) == {"x": 1}


def test_missing_file_raises_file_not_found(tmp_path):
    for compress in (True, False):
        with pytest.raises(FileNotFoundError):
            persistence.load(tmp_path / "missing.pickle", compress=compress)


def test_save_creates_parent_folders(tmp_path):
    fname = tmp_path / "a" / "b" / "c" / "data.pickle"
    persistence.save(fname, "hello")
    assert persistence.load(fname) == "hello"
    assert os.listdir(fname.parent) == ["data.pickle"]


def test_saving_to_a_folder_is_an_error_naming_fname(tmp_path):
    with pytest.raises(IsADirectoryError, match="fname="):
        persistence.save(tmp_path, [1])
    assert os.listdir(tmp_path) == []


def test_overwriting_leaves_only_the_new_file(tmp_path):
    fname = tmp_path / "data.pickle"
    for i in range(3):
        persistence.save(fname, i)
        assert os.listdir(tmp_path) == ["data.pickle"]
    assert persistence.load(fname) == 2


@pytest.mark.parametrize("compress", [True, False], ids=["compressed", "uncompressed"])
def test_a_failed_save_leaves_the_previous_file_intact(tmp_path, compress):
    fname = tmp_path / "data.pickle"
    persistence.save(fname, sample_data(), compress=compress)
    before = fname.read_bytes()
    big_then_broken = [np.zeros(100_000), RefusesPickling()]
    with pytest.raises(pickle.PicklingError, match="deliberately"):
        persistence.save(fname, big_then_broken, compress=compress)
    assert os.listdir(tmp_path) == ["data.pickle"]
    assert fname.read_bytes() == before
    assert_sample(persistence.load(fname, compress=compress))


def test_a_failed_first_save_leaves_no_file(tmp_path):
    with pytest.raises(pickle.PicklingError):
        persistence.save(tmp_path / "data.pickle", RefusesPickling())
    assert os.listdir(tmp_path) == []


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_saved_file_gets_the_usual_permissions(tmp_path):
    # an atomic save must not change who can read the file: it gets the permissions a plain
    # open(fname, "wb") gives (0o666 minus the umask), as it did before the save was atomic
    reference = tmp_path / "reference"
    with open(reference, "wb") as f:
        f.write(b"x")
    fname = tmp_path / "data.pickle"
    persistence.save(fname, [1])
    mode = stat.S_IMODE(fname.stat().st_mode)
    expected = stat.S_IMODE(reference.stat().st_mode)
    assert mode == expected, f"saved with mode {mode:o}, a plain open() gives {expected:o}"


def test_utils_save_and_load_are_the_same_format(tmp_path):
    fname = tmp_path / "data.pickle"
    utils.save(fname, {"y": [1.5]}, compress=False)
    assert persistence.load(fname, compress=False) == {"y": [1.5]}
    persistence.save(fname, {"y": [2.5]})
    assert utils.load(fname) == {"y": [2.5]}


# ---- what learner.save writes: the data in a self-describing envelope ---------------------------


def peak(x):
    return x + np.exp(-((x - 0.3) ** 2) / 0.01)


def test_learner_save_writes_a_self_describing_envelope(tmp_path):
    from adaptive_runner import Learner1D
    from adaptive_runner.learners.base import SAVED_FORMAT

    learner = Learner1D(peak, (-1, 1))
    for _ in range(15):
        (x,), _ = learner.ask(1)
        learner.tell(x, peak(x))
    fname = tmp_path / "learner.pickle"
    learner.save(fname)
    saved = persistence.load(fname)
    assert saved["format"] == SAVED_FORMAT
    assert saved["learner_type"] == "adaptive_runner.learners.learner1D.Learner1D"
    assert saved["fingerprint"] == {"type": saved["learner_type"], "bounds": [-1.0, 1.0]}
    assert saved["npoints"] == 15
    assert saved["loss"] == learner.loss()
    assert saved["data"] == learner._get_data()
    # the envelope is plain data: it unpickles without the learner's function
    assert "function" not in saved["options"]
    assert "func" not in saved["options"]


def test_bare_data_files_from_before_envelopes_still_load(tmp_path):
    from adaptive_runner import Learner1D

    fname = tmp_path / "old.pickle"
    persistence.save(fname, {0.0: 1.0, 0.5: 2.0, 1.0: 3.0})
    learner = Learner1D(peak, (0, 1))
    learner.load(fname)
    assert learner.data == {0.0: 1.0, 0.5: 2.0, 1.0: 3.0}


def test_fingerprint_is_importable_from_the_checkpoint_module():
    from adaptive_runner.learners.base import fingerprint
    from adaptive_runner.runner import checkpoint

    assert checkpoint.fingerprint is fingerprint
