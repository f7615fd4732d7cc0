"""nibabel is an optional extra: the runtime package imports without it."""
import subprocess
import sys
import textwrap

from tests.conftest import REPO_ROOT

# Runs in a fresh interpreter whose import system refuses nibabel, as on a
# machine where ``pip install mmplugin_transfuse`` skipped the extra.
SCRIPT = textwrap.dedent('''
    import sys

    class BlockNibabel:
        def find_spec(self, name, path=None, target=None):
            if name == 'nibabel' or name.startswith('nibabel.'):
                raise ModuleNotFoundError(f"No module named {name!r}")
            return None

    sys.meta_path.insert(0, BlockNibabel())

    import mmplugin_transfuse
    import mmplugin_transfuse.data_prep.conversion
    from mmseg.registry import DATASETS
    assert DATASETS.get('ProstateSliceDataset') is not None
    assert 'nibabel' not in sys.modules
    try:
        import mmplugin_transfuse.data_prep.msd
    except ImportError as e:
        print(f'{type(e).__name__}: {e}')
        print(f'cause: {e.__cause__!r}')
''')


def test_package_imports_without_nibabel_and_msd_names_the_extra():
    out = subprocess.run([sys.executable, '-c', SCRIPT], cwd=REPO_ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    first, cause = out.stdout.strip().splitlines()
    # the runtime package and the image converters loaded; the NIfTI reader
    # refused with the extra to install, chained to the blocked import
    assert first.startswith('ImportError: ')
    assert "pip install 'mmplugin_transfuse[medical]'" in first
    assert cause == "cause: ModuleNotFoundError(\"No module named 'nibabel'\")"
