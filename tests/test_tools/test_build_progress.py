"""Build progress from ninja's output (tools/build_progress.py), with a fake build command."""
import io
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'tools'))
import build_progress as bp  # noqa: E402


def test_progress_counts_files_and_estimates_time_left():
    p = bp.Progress('mmcv build', start=0.0)
    assert p.feed('  running bdist_wheel', 1.0) is None
    assert p.feed("  building 'mmcv._ext' extension", 10.0) == \
        '[mmcv build] compiling, no file finished yet, 0:10 elapsed'
    # pip -v indents the build output; 1 of 4 done 60 s after compiling started
    assert p.feed('  [1/4] c++ -MMD -c unity_01.cpp -o unity_01.o', 70.0) == \
        '[mmcv build] compiled 1 of 4 files, 1:10 elapsed, about 3:00 left'
    # counted down until the next file finishes, never below zero
    assert p.message(100.0) == '[mmcv build] compiled 1 of 4 files, 1:40 elapsed, about 2:30 left'
    assert p.message(300.0).endswith('finishing (taking longer than estimated)')
    p.feed('[4/4] c++ -c unity_00.cpp', 130.0)
    assert p.feed('c++ -shared -Wl,-O1 a.o b.o -o _ext.so', 131.0) == \
        '[mmcv build] linking, 2:11 elapsed'
    assert p.feed('Created wheel for mmcv: filename=mmcv-2.1.0-cp311.whl', 140.0) == \
        '[mmcv build] done, 2:20 elapsed'
    assert p.feed('Successfully built mmcv', 141.0) is None  # said once


def test_fmt_time_hours():
    assert bp.fmt_time(3725) == '1:02:05' and bp.fmt_time(59.6) == '1:00'


FAKE = '''import sys, time
print("building 'mmcv._ext' extension", flush=True)
for i in (1, 2):
    print(f"[{i}/2] c++ -c u{i}.cpp", flush=True)
    time.sleep(0.05)
if sys.argv[1] == "fail":
    print("u2.cpp:7:3: error: 'foo' was not declared in this scope", flush=True)
    sys.exit(3)
print("Created wheel for mmcv: filename=x.whl")
'''


def test_run_tees_the_log_and_reports_success(tmp_path):
    script = tmp_path / 'fake_build.py'
    script.write_text(FAKE)
    out = io.StringIO()
    log = tmp_path / 'logs' / 'build.log'
    rc = bp.run([sys.executable, str(script), 'ok'], log, 'mmcv build', heartbeat=30, out=out)
    assert rc == 0
    text = out.getvalue()
    assert 'compiled 1 of 2 files' in text and 'compiled 2 of 2 files' in text
    assert 'finished in' in text and str(log) in text
    assert '[2/2] c++ -c u2.cpp' in log.read_text()


def test_run_failure_names_the_log_and_the_error(tmp_path):
    script = tmp_path / 'fake_build.py'
    script.write_text(FAKE)
    out = io.StringIO()
    log = tmp_path / 'build.log'
    rc = bp.run([sys.executable, str(script), 'fail'], log, 'mmcv build', heartbeat=30, out=out)
    assert rc == 3
    text = out.getvalue()
    assert "FAILED (exit 3)" in text
    assert "error: 'foo' was not declared" in text
    assert f'the full build log is {log}' in text
    assert "error: 'foo'" in log.read_text()
