"""geo.safezip: members are checked before extraction; extraction is bounded and private."""
from __future__ import annotations

import stat
import time
import zipfile
import zlib

import pytest

from geo.errors import AtlasError
from geo.safezip import Limits, check_zip, safe_extract
from tests import corpus as C


def _zip(tmp_path, names, name="a.zip"):
    return C.raw_zip(tmp_path / name, [C._stored(n, b"data") for n in names])


@pytest.mark.parametrize("member", ["../x.shp", "a/../../x.shp", "/etc/passwd", "C:/x.shp", "..\\x.shp",
                                    "a\\..\\..\\x.shp", "\\\\server\\x"])
def test_unsafe_names_refused(tmp_path, member):
    with pytest.raises(AtlasError) as exc:
        check_zip(_zip(tmp_path, ["ok.shp", member]))
    assert exc.value.key == "import_errors.zip_slip"


def test_duplicate_names_refused(tmp_path):
    with pytest.raises(AtlasError) as exc:
        check_zip(_zip(tmp_path, ["a.shp", "A.SHP"]))
    assert exc.value.key == "import_errors.zip_slip"


def test_symlink_refused(tmp_path):
    with pytest.raises(AtlasError) as exc:
        check_zip(C.make_zip_symlink(tmp_path))
    assert exc.value.key == "import_errors.zip_link"


def test_encrypted_refused(tmp_path):
    p = C.raw_zip(tmp_path / "enc.zip", [C._stored("a.shp", b"x")])
    data = bytearray(p.read_bytes())
    cd = data.find(b"PK\x01\x02")
    data[6:8] = b"\x01\x00"          # local header flag
    data[cd + 8:cd + 10] = b"\x01\x00"  # central directory flag
    p.write_bytes(bytes(data))
    with pytest.raises(AtlasError) as exc:
        check_zip(p)
    assert exc.value.key == "import_errors.zip_encrypted"


def test_bomb_refused_from_headers_in_milliseconds(tmp_path):
    p = C.make_zip_bomb(tmp_path)
    start = time.perf_counter()
    with pytest.raises(AtlasError) as exc:
        safe_extract(p, tmp_path / "out")
    assert time.perf_counter() - start < 0.5
    assert exc.value.key == "import_errors.zip_bomb"
    assert not (tmp_path / "out").exists()


def test_total_size_cap(tmp_path):
    p = tmp_path / "big.zip"
    with zipfile.ZipFile(p, "w", zipfile.ZIP_STORED) as zf:
        for i in range(3):
            zf.writestr(f"f{i}.csv", b"x" * 4000)
    with pytest.raises(AtlasError) as exc:
        check_zip(p, Limits(max_unzipped_bytes=10_000))
    assert exc.value.key == "import_errors.zip_too_big"
    assert len(check_zip(p, Limits(max_unzipped_bytes=12_000))) == 3


def test_member_count_cap(tmp_path):
    p = _zip(tmp_path, [f"f{i}.txt" for i in range(11)])
    with pytest.raises(AtlasError) as exc:
        check_zip(p, Limits(max_members=10))
    assert exc.value.key == "import_errors.zip_members"


def test_file_size_cap(tmp_path):
    p = _zip(tmp_path, ["a.txt"])
    with pytest.raises(AtlasError) as exc:
        check_zip(p, Limits(max_file_bytes=10))
    assert exc.value.key == "import_errors.too_big"


def test_corrupt_refused(tmp_path):
    for data in (b"", b"PK\x03\x04garbage", b"not a zip at all"):
        p = tmp_path / "c.zip"
        p.write_bytes(data)
        with pytest.raises(AtlasError) as exc:
            check_zip(p)
        assert exc.value.key == "import_errors.zip_corrupt"


def test_lying_header_extracts_only_declared_bytes(tmp_path):
    out = safe_extract(C.make_zip_lying_header(tmp_path), tmp_path / "out")
    assert (out / "x.geojson").stat().st_size == 10


def test_bad_crc_refused(tmp_path):
    payload = b"hello world" * 100
    data = zlib.compress(payload)[2:-4]
    p = C.raw_zip(tmp_path / "crc.zip", [{"name": "a.txt", "data": data, "crc": 1234, "usize": len(payload)}])
    with pytest.raises(AtlasError) as exc:
        safe_extract(p, tmp_path / "out")
    assert exc.value.key == "import_errors.zip_corrupt"


def test_extracts_into_private_folder_only(tmp_path):
    p = tmp_path / "ok.zip"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("dir/a.txt", "A")
        zf.writestr("inner.zip", b"PK\x05\x06" + b"\0" * 18)
    out = safe_extract(p)
    try:
        assert stat.S_IMODE(out.stat().st_mode) == 0o700
        assert (out / "dir" / "a.txt").read_text() == "A"
        assert sorted(x.name for x in out.rglob("*")) == ["a.txt", "dir", "inner.zip"]  # nested zip not opened
    finally:
        import shutil
        shutil.rmtree(out)


def test_env_limits(monkeypatch):
    monkeypatch.setenv("ATLAS_MAX_UPLOAD_MB", "1.5")
    monkeypatch.setenv("ATLAS_MAX_ZIP_RATIO", "50")
    lim = Limits.from_env()
    assert lim.max_file_bytes == int(1.5 * 1024 * 1024) and lim.max_ratio == 50.0


def test_whole_archive_ratio_catches_a_bomb_split_into_small_members(tmp_path):
    path = C.make_zip_bomb_many(tmp_path)
    start = time.perf_counter()
    with pytest.raises(AtlasError) as exc:
        safe_extract(path, tmp_path / "out")
    assert time.perf_counter() - start < 1.0
    assert exc.value.key == "import_errors.zip_bomb_total" and not (tmp_path / "out").exists()
    assert exc.value.params["size_mb"] == 100.0 and exc.value.params["ratio"] > 200
    # the same pieces, few enough to stay under the floor, are an ordinary archive
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()[:10]
        small = tmp_path / "small.zip"
        with zipfile.ZipFile(small, "w", zipfile.ZIP_DEFLATED) as out:
            for info in infos:
                out.writestr(info.filename, zf.read(info))
    assert len(check_zip(small)) == 10
    # the cap is configurable: a looser ratio lets the big one through the check
    assert len(check_zip(path, Limits(max_ratio=2000))) == 100
