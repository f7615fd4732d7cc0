"""The unity-build patch of mmcv's source (tools/mmcv_unity_build.py), on small C++ files."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'tools'))
import mmcv_unity_build as ub  # noqa: E402

A = '''// a.cpp
#include <vector>
#define min(a, b) (((a) < (b)) ? (a) : (b))
template <typename T>
struct PreCalc { T w; };
template <typename T>
void bilinear(const T* x, int n) {  // a { in a comment
  if (n) { PreCalc<T> p{x[0]}; (void)p; }
}
int a_entry(int x, int y) { return min(x, y); }
void declared_only(int x);
'''
B = '''// b.cpp uses std::min, which a.cpp's min macro would break
#include <algorithm>
namespace functor {
struct Other { int v; };
int bilinear(int x) { return std::min(x, 3); }
}  // namespace functor
int b_entry(int x) { return functor::bilinear(x) + (int)sizeof("}{"); }
'''
C = '''#include <string>
using namespace std;
string c_entry() { return string("c"); }
'''
D = '''int d_entry(int v) { return v + 1; }
'''


def test_defined_names_finds_definitions_not_declarations_or_calls():
    assert ub.defined_names(A) == {'PreCalc', 'bilinear', 'a_entry'}
    assert ub.defined_names(B) == {'Other', 'bilinear', 'b_entry'}


def test_file_local_symbols_are_reported():
    assert ub.file_local_problems('static int f() { return 1; }') == ['file-static definition']
    assert ub.file_local_problems('namespace { int g() { return 2; } }') == ['anonymous namespace']
    assert ub.file_local_problems(A) == []


def test_plan_keeps_clashing_files_apart_and_using_namespace_last():
    sources = {'a.cpp': A, 'b.cpp': B, 'c.cpp': C, 'd.cpp': D}
    units = ub.plan_units(sources, 1)  # one unit asked, but a and b clash on `bilinear`
    assert len(units) == 2
    assert not any({'a.cpp', 'b.cpp'} <= set(u) for u in units)
    assert sorted(f for u in units for f in u) == sorted(sources)
    for u in units:
        if 'c.cpp' in u:
            assert u[-1] == 'c.cpp'
    with pytest.raises(ValueError, match='n_units'):
        ub.plan_units(sources, 0)


def test_unity_text_undefines_each_files_macros():
    text = ub.unity_text(['a.cpp', 'd.cpp'], {'a.cpp': A, 'd.cpp': D})
    lines = text.splitlines()
    assert lines.index('#undef min') == lines.index('#include "a.cpp"') + 1
    assert lines[-1] == '#include "d.cpp"'


@pytest.mark.skipif(shutil.which('c++') is None, reason='needs a C++ compiler')
def test_unity_sources_compile_where_a_naive_concatenation_does_not(tmp_path):
    src = tmp_path / 'mmcv-2.1.0'
    for name, text in [('pytorch/a.cpp', A), ('pytorch/cpu/b.cpp', B),
                       ('pytorch/c.cpp', C), ('pytorch/cpu/d.cpp', D)]:
        path = src / 'mmcv/ops/csrc' / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    units = ub.write_unity_sources(src, 1)
    assert len(units) == 2 and all(u.parent == src / ub.UNITY_DIR for u in units)
    for unit in units:
        r = subprocess.run(['c++', '-std=c++17', '-fsyntax-only', str(unit)],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
    naive = tmp_path / 'naive.cpp'
    naive.write_text(A + B)
    assert subprocess.run(['c++', '-std=c++17', '-fsyntax-only', str(naive)],
                          capture_output=True).returncode != 0


SETUP_EXCERPT = """        extra_compile_args = {'cxx': []}
        if platform.system() != 'Windows':
            extra_compile_args['cxx'] = ['-std=c++17']
        if True:
            op_files = glob.glob('./mmcv/ops/csrc/pytorch/*.cpp') + \\
                glob.glob('./mmcv/ops/csrc/pytorch/cpu/*.cpp') + \\
                glob.glob('./mmcv/ops/csrc/pytorch/cuda/*.cu')
        else:
            op_files = glob.glob('./mmcv/ops/csrc/pytorch/*.cpp') + \\
                glob.glob('./mmcv/ops/csrc/pytorch/cpu/*.cpp')

        ext_ops = extension(
            name=ext_name,
            sources=op_files)
"""


def test_patch_setup_py_swaps_sources_and_flags():
    out = ub.patch_setup_py(SETUP_EXCERPT, ['mmcv/ops/csrc/unity/unity_00.cpp'], cxx20=True)
    assert "['-std=c++20']" in out and 'c++17' not in out
    assert "glob.glob('./mmcv/ops/csrc/pytorch/*.cpp')" not in out
    assert out.count("['./mmcv/ops/csrc/unity/unity_00.cpp']") == 2
    assert "glob.glob('./mmcv/ops/csrc/pytorch/cuda/*.cu')" in out  # CUDA files untouched
    assert "+ ['-g0']" in out


def test_patch_setup_py_refuses_an_unexpected_setup_py():
    with pytest.raises(ValueError, match='glob of'):
        ub.patch_setup_py("op_files = glob.glob('src/*.cpp')\n", ['u.cpp'], cxx20=False,
                          no_debug_info=False)
    with pytest.raises(ValueError, match='c\\+\\+17'):
        ub.patch_setup_py('nothing here', None, cxx20=True)
