"""The mmcv wheel cache (tools/mmcv_wheel_cache.py) with fake wheels: nothing is built."""
import json
import sys
import zipfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'tools'))
import mmcv_wheel_cache as wc  # noqa: E402

ABI = wc.BuildAbi(mmcv='2.1.0', torch='2.14.1+cu130', torch_cuda='13.0', cuda_ops=False)
TAGS = {'cp311-cp311-linux_x86_64', 'py3-none-any'}
NAME = 'mmcv-2.1.0-cp311-cp311-linux_x86_64.whl'


def fake_wheel(tmp_path: Path, name: str = NAME, ext: bool = True) -> Path:
    path = tmp_path / 'dist' / name
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, 'w') as z:
        z.writestr('mmcv/__init__.py', '__version__ = "2.1.0"\n')
        if ext:
            z.writestr('mmcv/_ext.cpython-311-x86_64-linux-gnu.so', b'\x7fELF fake')
    return path


def test_cache_root_override_order(tmp_path):
    assert wc.cache_root({'MMPLUGIN_TRANSFUSE_CACHE': str(tmp_path / 'c'),
                          'XDG_CACHE_HOME': '/x'}) == tmp_path / 'c'
    assert wc.cache_root({'XDG_CACHE_HOME': str(tmp_path)}) == tmp_path / 'mmplugin_transfuse'
    assert wc.cache_root({}) == Path.home() / '.cache' / 'mmplugin_transfuse'


def test_folder_names_torch_version_and_cuda_tag():
    assert ABI.folder == 'torch-2.14.1-cu130'
    assert wc.BuildAbi('2.1.0', '2.13.0+cpu', None, False).folder == 'torch-2.13.0-cpu'


def test_right_abi_is_reused(tmp_path):
    root = tmp_path / 'cache'
    stored = wc.store_wheel(root, ABI, fake_wheel(tmp_path))
    assert stored == root / 'wheels' / 'torch-2.14.1-cu130' / NAME
    meta = json.loads(stored.with_name(NAME + '.json').read_text())
    assert meta['torch'] == '2.14.1+cu130' and meta['cuda_ops'] is False
    assert wc.find_wheel(root, ABI, TAGS) == stored
    # no temporary files left behind by the atomic copy
    assert sorted(p.name for p in stored.parent.iterdir()) == [NAME, NAME + '.json']
    assert stored.stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize('other', [
    wc.BuildAbi('2.1.0', '2.13.0+cu130', '13.0', False),  # other torch: other folder
    wc.BuildAbi('2.1.0', '2.14.1', '13.0', False),  # same folder, other torch build
    wc.BuildAbi('2.1.0', '2.14.1+cu126', '12.6', False),  # other CUDA
    wc.BuildAbi('2.1.0', '2.14.1+cu130', '13.0', True),  # CUDA ops wanted
    wc.BuildAbi('2.2.0', '2.14.1+cu130', '13.0', False),  # other mmcv
])
def test_wrong_abi_is_ignored_and_kept(tmp_path, other):
    root = tmp_path / 'cache'
    stored = wc.store_wheel(root, ABI, fake_wheel(tmp_path))
    assert wc.find_wheel(root, other, TAGS) is None
    assert stored.is_file()  # it is right for another interpreter: not deleted


def test_wrong_python_tag_is_ignored(tmp_path, capsys):
    root = tmp_path / 'cache'
    stored = wc.store_wheel(root, ABI, fake_wheel(tmp_path))
    assert wc.find_wheel(root, ABI, {'cp312-cp312-linux_x86_64'}) is None
    assert 'not supported by this interpreter' in capsys.readouterr().err
    assert stored.is_file()


@pytest.mark.parametrize('damage', ['truncate', 'no_ext', 'no_json'])
def test_broken_wheel_is_rejected_and_removed(tmp_path, damage, capsys):
    root = tmp_path / 'cache'
    stored = wc.store_wheel(root, ABI, fake_wheel(tmp_path, ext=damage != 'no_ext'))
    if damage == 'truncate':
        stored.write_bytes(stored.read_bytes()[:20])
    elif damage == 'no_json':
        stored.with_name(NAME + '.json').unlink()
    assert wc.find_wheel(root, ABI, TAGS) is None
    assert 'broken' in capsys.readouterr().err
    assert not stored.exists() and not stored.with_name(NAME + '.json').exists()


def test_newest_usable_wheel_wins(tmp_path):
    root = tmp_path / 'cache'
    old = wc.store_wheel(root, ABI, fake_wheel(tmp_path))
    new = wc.store_wheel(root, ABI, fake_wheel(tmp_path / 'b', NAME.replace('linux', 'manylinux_2_17')))
    import os
    os.utime(old, (1, 1))
    assert wc.find_wheel(root, ABI, TAGS | {'cp311-cp311-manylinux_2_17_x86_64'}) == new


def test_install_cached_checks_import_and_evicts_a_wrong_abi_wheel(tmp_path, capsys):
    root = tmp_path / 'cache'
    stored = wc.store_wheel(root, ABI, fake_wheel(tmp_path))
    installed = []
    ok = wc.install_cached(root, ABI, TAGS, lambda w: installed.append(w) or True, lambda: True)
    assert ok == stored and installed == [stored] and stored.is_file()
    # installs, but `import mmcv.ops` fails: removed so the caller rebuilds
    assert wc.install_cached(root, ABI, TAGS, lambda w: True, lambda: False) is None
    assert 'wrong ABI' in capsys.readouterr().err
    assert not stored.exists()
    # nothing cached any more: the install callback is not called at all
    assert wc.install_cached(root, ABI, TAGS, lambda w: pytest.fail('called'), lambda: True) is None
