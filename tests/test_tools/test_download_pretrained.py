"""tools/misc/download_pretrained.py: a config's pretrained files into the
torch hub cache, ahead of time (served from 127.0.0.1, never the internet)."""
import os.path as osp
import shutil

import pytest
from mmengine import Config

from tests.conftest import CONFIG_ROOT, load_tool
from tests.test_seg.test_models.pretrained_server import (  # noqa: F401
    DEIT_S, RESNET34, cached_files, release_files, serve_torchvision, server,
    sha256_of, torch_home)

POLYP_S = osp.join(CONFIG_ROOT, 'transfuse',
                   'transfuse-s_r34-deit-s_1xb16-30e_polyp-352x352.py')
SMCA = osp.join(CONFIG_ROOT, 'smca_detr', 'smca-detr_r50_8xb2-50e_coco.py')
VIT_KEY = 'model.backbone.global_branch.init_cfg.checkpoint'

tool = load_tool('misc/download_pretrained.py')


def named_by_hash(server, name):
    """A copy of a served file named as torch hub expects
    (``<stem>-<first 8 hex of its sha256>.pth``); its URL."""
    src = osp.join(server.root, name)
    stem = name.rsplit('-', 1)[0]
    hashed = f'{stem}-{sha256_of(src)[:8]}.pth'
    if not osp.exists(osp.join(server.root, hashed)):
        shutil.copyfile(src, osp.join(server.root, hashed))
    return hashed, server.url(hashed)


def test_polyp_s_files_listed_with_size_and_sha256(server, torch_home,
                                                   monkeypatch, capsys):
    r34, r34_url = named_by_hash(server, RESNET34)
    deit, deit_url = named_by_hash(server, DEIT_S)
    serve_torchvision(monkeypatch, {'resnet34': r34_url})
    assert Config.fromfile(POLYP_S).model.backbone.cnn.init_cfg.checkpoint \
        == 'torchvision://resnet34'
    args = [POLYP_S, '--cfg-options', f'{VIT_KEY}={deit_url}']
    assert tool.main(args) == 0
    out = capsys.readouterr().out
    for name in (r34, deit):
        served = osp.join(server.root, name)
        cached = osp.join(torch_home, name)
        assert (f'{cached}  {osp.getsize(served)} bytes  sha256 '
                f'{sha256_of(served)}  (downloaded)') in out
    assert 'model.backbone.cnn.init_cfg.checkpoint = torchvision://resnet34' \
        in out
    assert f'copy {torch_home} to the same place' in out
    assert cached_files(torch_home) == {
        name: osp.getsize(osp.join(server.root, name))
        for name in (r34, deit)
    }
    # a second run finds both in the cache, with the server gone
    server.stop()
    assert tool.main(args) == 0
    assert capsys.readouterr().out.count('(cached)') == 2


def test_smca_config_lists_mmdets_torchvision_resnet50(
        server, torch_home, monkeypatch, capsys):
    r50, url = named_by_hash(server, RESNET34)  # any file will do
    serve_torchvision(monkeypatch, {'resnet50': url})
    assert tool.main([SMCA]) == 0
    out = capsys.readouterr().out
    assert 'model.backbone.init_cfg.checkpoint = torchvision://resnet50' in out
    assert osp.isfile(osp.join(torch_home, r50))


@pytest.mark.parametrize('failure', ['hash', '404'])
def test_failures_are_reported_and_nothing_is_kept(failure, server,
                                                   torch_home, capsys):
    # a file whose content does not match the hash prefix of its name
    url = server.url(RESNET34) if failure == 'hash' else \
        server.url('resnet34-00000000.pth')
    assert tool.main([POLYP_S, '--cfg-options',
                      f'model.backbone.cnn.init_cfg.checkpoint={url}',
                      f'{VIT_KEY}={url}']) == 1
    err = capsys.readouterr().err
    assert '2 file(s) could not be fetched' in err  # both fields
    for field in ('model.backbone.cnn.init_cfg.checkpoint', VIT_KEY):
        assert f'  {field}: {url}: downloading {url} into {torch_home} ' \
            'failed' in err
    assert ('invalid hash value' if failure == 'hash' else '404') in err
    assert cached_files(torch_home) == {}
