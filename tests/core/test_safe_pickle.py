"""The restricted unpickler: malicious pickles are refused before anything runs; numpy data round-trips.

Python-2 pickles (what DEAP's ``.dat`` and WESAD's ``.pkl`` files are) are
written with :func:`biosig.datasets.writers.py2_pickle_dumps`, which emits
Python 2's byte-string opcodes and names ``numpy.core.multiarray._reconstruct``
as numpy 1.x under Python 2 did; the protocol-0 text pickle below is written
out by hand in the form ``cPickle.dumps(obj, 0)`` produces.
"""

import os
import pickle
import re
import struct
import tracemalloc

import numpy as np
import pytest

from biosig.datasets.writers import py2_pickle_dumps
from biosig.errors import DataError
from biosig.datasets.deap import PICKLE_BUDGET as DEAP_BUDGET
from biosig.datasets.deap import read_deap_dat
from biosig.datasets.wesad import PICKLE_BUDGET as WESAD_BUDGET
from biosig.io.safe_pickle import ArrayBudget, load_pickle, loads_pickle


class _Payload:
    """Unpickling this runs ``os.system(command)``."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_malicious_pickle_is_refused_without_running(tmp_path, protocol):
    marker = tmp_path / "pwned"
    path = tmp_path / "s01.dat"
    path.write_bytes(pickle.dumps({"data": np.zeros(3), "x": _Payload(f"touch {marker}")}, protocol=protocol))

    with pytest.raises(DataError, match=r"s01\.dat: refused to unpickle the global '(posix|os|nt)\.system'"):
        load_pickle(path)
    assert not marker.exists()

    # The payload is live: the standard unpickler does run it.
    pickle.loads(path.read_bytes())
    assert marker.exists()


@pytest.mark.parametrize(
    "module, name",
    [
        ("builtins", "eval"),
        ("builtins", "getattr"),
        ("subprocess", "Popen"),
        ("numpy", "load"),
        ("__builtin__", "open"),
    ],
)
def test_any_other_global_is_refused_by_name(module, name):
    payload = f"c{module}\n{name}\n(S'1'\ntR.".encode()
    with pytest.raises(DataError, match=rf"evil\.pkl: refused to unpickle the global '{module}\.{name}'"):
        loads_pickle(payload, source="evil.pkl")


def test_codecs_encode_is_limited_to_latin1():
    ok = pickle.dumps(b"\x00\xffdata", protocol=2)  # Python 3 writes bytes as _codecs.encode(text, 'latin1')
    assert loads_pickle(ok) == b"\x00\xffdata"
    rot13 = b"c_codecs\nencode\n(Vabc\nVrot13\ntR."
    with pytest.raises(DataError, match=r"x\.pkl: not a readable pickle.*refused codec 'rot13'"):
        loads_pickle(rot13, source="x.pkl")


def _sample() -> dict:
    rng = np.random.default_rng(0)
    return {
        "data": rng.standard_normal((3, 4, 5)),
        "fortran": np.asfortranarray(rng.standard_normal((4, 3)).astype(np.float32)),
        "labels": rng.integers(0, 9, (3, 4)).astype(np.int32),
        "mask": np.array([True, False, True]),
        "empty": np.zeros((0, 2)),
        "subject": "S2",
        "numbers": [1, -7, 2**40, 2.5, None, True],
        "nested": {"chest": {"ECG": np.arange(6.0).reshape(6, 1)}, "tuple": (1, 2, 3, 4)},
    }


def _assert_same(a, b):
    assert type(a) is type(b)
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape and a.flags.f_contiguous == b.flags.f_contiguous
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for key in a:
            _assert_same(a[key], b[key])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _assert_same(x, y)
    else:
        assert a == b


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_numpy_data_round_trips_at_python3_protocols(tmp_path, protocol):
    obj = {**_sample(), "set": {1, 2}, "complex": 1 + 2j, "bytes": b"\x00\x01", "scalar": np.float64(1.5)}
    path = tmp_path / "x.pkl"
    path.write_bytes(pickle.dumps(obj, protocol=protocol))
    _assert_same(load_pickle(path), obj)


def test_python2_pickle_round_trips_with_latin1(tmp_path):
    obj = _sample()
    raw = py2_pickle_dumps(obj)
    # Python 2 opcodes: byte strings (SHORT_BINSTRING 'U') and numpy 1.x's module path.
    assert raw.startswith(b"\x80\x02") and b"U\x07subject" in raw and b"cnumpy.core.multiarray\n_reconstruct\n" in raw
    path = tmp_path / "s01.dat"
    path.write_bytes(raw)
    _assert_same(load_pickle(path, encoding="latin1"), obj)
    # The stdlib reads the same bytes identically, so the writer is faithful, not tailored to our reader.
    _assert_same(pickle.loads(raw, encoding="latin1"), obj)


def test_python2_text_protocol_pickle():
    # cPickle.dumps({'subject': 'S2', 'n': 3, 'x': [1.5, 'a']}, 0) under Python 2
    raw = b"(dp0\nS'subject'\np1\nS'S2'\np2\nsS'n'\np3\nI3\nsS'x'\np4\n(lp5\nF1.5\naS'a'\np6\nas."
    assert loads_pickle(raw, encoding="latin1") == {"subject": "S2", "n": 3, "x": [1.5, "a"]}


def test_corrupt_and_missing_files_name_the_file(tmp_path):
    path = tmp_path / "s02.dat"
    path.write_bytes(pickle.dumps({"data": np.zeros(100)}, protocol=2)[:-40])
    with pytest.raises(DataError, match=r"s02\.dat: not a readable pickle"):
        load_pickle(path)
    with pytest.raises(DataError, match=r"nothere\.dat: file not found"):
        load_pickle(tmp_path / "nothere.dat")


# --------------------------------------------------------------------------- memory: declared sizes allocate nothing


class _Call:
    """Pickles as ``func(*args)``: how a crafted file asks for a call."""

    def __init__(self, func, *args) -> None:
        self.func, self.args = func, args

    def __reduce__(self):
        return (self.func, self.args)


def _peak_mib(load) -> tuple[float, str]:
    """Peak traced Python/numpy memory (MiB) while ``load()`` raises DataError, and its message."""
    tracemalloc.start()
    try:
        with pytest.raises(DataError) as info:
            load()
        return tracemalloc.get_traced_memory()[1] / 2**20, str(info.value)
    finally:
        tracemalloc.stop()


def test_deap_file_calling_ndarray_is_refused_before_allocating(tmp_path):
    # 331 bytes that ask numpy.ndarray((2, 40, 10**6), 'f8'): 610 MiB, 1.2 GiB peak before the fix.
    path = tmp_path / "s01.dat"
    path.write_bytes(pickle.dumps({"data": _Call(np.ndarray, (2, 40, 10**6), "f8"), "labels": np.full((2, 4), 5.0)}, 2))
    assert len(path.read_bytes()) < 400
    peak, message = _peak_mib(lambda: read_deap_dat(path))
    assert peak < 10
    assert str(path) in message and "refused the call numpy.ndarray((2, 40, 1000000), 'f8')" in message


@pytest.mark.parametrize(
    "shape, dtype, expected",
    [
        ((2, 40, 10**6), "f8", r"refused _reconstruct"),
        ((0,), "O", r"refused the object dtype"),
    ],
)
def test_reconstruct_only_as_numpy_writes_it(shape, dtype, expected):
    from numpy._core.multiarray import _reconstruct

    raw = pickle.dumps(_Call(_reconstruct, np.ndarray, shape, np.dtype(dtype)), 2)
    peak, message = _peak_mib(lambda: loads_pickle(raw, source="x.pkl"))
    assert peak < 10 and message.startswith("x.pkl: ") and re.search(expected, message)


def _array_state_pickle(shape: tuple, dtype: str, data: bytes | list) -> bytes:
    """An array pickled the way numpy does, with ``shape`` and ``data`` in its BUILD state as given."""
    header = b"\x80\x02cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85C\x01b\x87R"
    state = pickle.dumps((1, shape, np.dtype(dtype), False, data), 2)[2:-1]
    return header + state + b"b."


def test_array_state_over_the_dataset_budget_is_refused_before_numpy_sees_it():
    # The declared shape is DEAP's data with 41 trials; the buffer is a few bytes (numpy would check it later).
    raw = _array_state_pickle((41, 40, 8064), "f8", b"\x00" * 8)
    peak, message = _peak_mib(lambda: loads_pickle(raw, source="s02.dat", budget=DEAP_BUDGET))
    assert peak < 10
    assert "s02.dat: refused a numpy array of shape (41, 40, 8064) and dtype float64" in message
    assert "DEAP: data 40 x 40 x 8064, labels 40 x 4" in message
    # The same numbers within the budget reach numpy, which refuses the short buffer.
    with pytest.raises(DataError, match=r"s02\.dat: not a readable pickle.*buffer size does not match"):
        loads_pickle(_array_state_pickle((40, 40, 8064), "f8", b"\x00" * 8), source="s02.dat", budget=DEAP_BUDGET)


def test_object_array_state_is_refused_before_allocating():
    # numpy allocates an object array from the declared shape before filling it from the list.
    raw = _array_state_pickle((10**8,), "O", [])
    peak, message = _peak_mib(lambda: loads_pickle(raw, source="x.pkl"))
    assert peak < 10 and message.startswith("x.pkl: ") and "object dtype" in message


def test_declared_lengths_and_sizes_allocate_nothing():
    # A byte string that declares 2 GiB in a 20-byte pickle is truncated, not a 2 GiB buffer.
    raw = b"\x80\x02T" + struct.pack("<i", 2**31 - 1) + b"abc."
    peak, message = _peak_mib(lambda: loads_pickle(raw, source="x.pkl"))
    assert peak < 10 and "x.pkl: not a readable pickle" in message and "truncated" in message
    for kind in ("bytes", "bytearray"):
        raw = f"c__builtin__\n{kind}\n(I1000000000\ntR.".encode()
        peak, message = _peak_mib(lambda: loads_pickle(raw, source="x.pkl"))
        assert peak < 10 and f"refused {kind}(1000000000)" in message


def test_array_budget_counts_every_array_of_the_file():
    budget = ArrayBudget(max_array_bytes=800, max_total_bytes=1000, what="test: 100 values")
    assert loads_pickle(pickle.dumps([np.zeros(100), np.zeros(25)], 2), budget=budget)[0].shape == (100,)
    with pytest.raises(DataError, match=r"y\.pkl: refused a numpy array of shape \(101,\).*test: 100 values"):
        loads_pickle(pickle.dumps(np.zeros(101), 2), source="y.pkl", budget=budget)
    with pytest.raises(DataError, match=r"y\.pkl: refused a numpy array of shape \(26,\).*1008 bytes of arrays"):
        loads_pickle(pickle.dumps([np.zeros(100), np.zeros(26)], 2), source="y.pkl", budget=budget)
    # Protocol 5 arrays (numpy's _frombuffer) count the same way.
    with pytest.raises(DataError, match=r"y\.pkl: refused a numpy array of shape \(101,\)"):
        loads_pickle(pickle.dumps(np.zeros(101), 5), source="y.pkl", budget=budget)


def test_dataset_budgets_admit_the_documented_shapes():
    assert DEAP_BUDGET.max_array_bytes == 40 * 40 * 8064 * 8
    assert DEAP_BUDGET.max_total_bytes == (40 * 40 * 8064 + 40 * 4) * 8
    # WESAD: chest ACC (n x 3) over 3 h at 700 Hz is the largest array.
    assert WESAD_BUDGET.max_array_bytes == 3 * 3600 * 700 * 3 * 8
