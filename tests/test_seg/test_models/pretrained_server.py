"""A local stand-in for the ImageNet weight servers (no test uses the
internet).

``ReleaseServer`` serves a folder on 127.0.0.1 (a free port, in a thread);
``/truncated/NAME`` sends the headers of ``NAME`` (full Content-Length) but
only half its bytes, as a dropped connection does. ``write_release_files``
writes files in the real release formats: torchvision's ResNet-34 state dict
and DeiT-S's ``{'model': state_dict}`` (class token, 1 + 14*14 pos-embed, 12
blocks, head), random values with the real key names and shapes.

Import the fixtures into a test module to use them::

    from tests.test_seg.test_models.pretrained_server import (  # noqa: F401
        release_files, server)
"""
import functools
import hashlib
import http.server
import os
import os.path as osp
import threading
from typing import Any, Dict

import pytest
import timm
import torch
from torchvision.models import resnet34

RESNET34 = 'resnet34-b627a593.pth'
DEIT_S = 'deit_small_patch16_224-cd65a155.pth'


class _Handler(http.server.SimpleHTTPRequestHandler):

    def log_message(self, *args: Any) -> None:  # keep pytest output clean
        pass

    def do_GET(self) -> None:
        if not self.path.startswith('/truncated/'):
            return super().do_GET()
        path = osp.join(self.directory, osp.basename(self.path))
        with open(path, 'rb') as f:
            data = f.read()
        self.send_response(200)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data[:len(data) // 2])
        self.close_connection = True


class ReleaseServer:
    """HTTP server for the files of ``root`` on 127.0.0.1."""

    def __init__(self, root: str) -> None:
        self.root = root
        self._httpd = http.server.ThreadingHTTPServer(
            ('127.0.0.1', 0), functools.partial(_Handler, directory=root))
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.05, ), daemon=True)
        self._thread.start()

    def url(self, name: str) -> str:
        return f'http://127.0.0.1:{self.port}/{name}'

    def stop(self) -> None:
        if self._thread.is_alive():
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join()


def sha256_of(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def write_release_files(root: str) -> Dict[str, Dict[str, torch.Tensor]]:
    """ResNet-34 and DeiT-S release files in ``root``; their state dicts."""
    torch.manual_seed(0)
    r34 = resnet34(weights=None).state_dict()
    torch.save(r34, osp.join(root, RESNET34))
    deit = timm.create_model(
        'deit_small_patch16_224', pretrained=False).state_dict()
    # random values for every tensor (timm inits the tokens at zero)
    deit = {k: torch.randn_like(v) for k, v in deit.items()}
    torch.save({'model': deit}, osp.join(root, DEIT_S))
    return {RESNET34: r34, DEIT_S: deit}


@pytest.fixture(scope='module')
def release_files(tmp_path_factory):
    """(folder, {file name: state dict}) of the served release files."""
    root = str(tmp_path_factory.mktemp('releases'))
    return root, write_release_files(root)


@pytest.fixture
def server(release_files):
    srv = ReleaseServer(release_files[0])
    yield srv
    srv.stop()


@pytest.fixture
def torch_home(tmp_path, monkeypatch):
    """An empty torch hub cache: ``$TORCH_HOME/hub/checkpoints``."""
    home = tmp_path / 'torch_home'
    monkeypatch.setenv('TORCH_HOME', str(home))
    return str(home / 'hub' / 'checkpoints')


def serve_torchvision(monkeypatch, urls: Dict[str, str]) -> None:
    """Make ``torchvision://NAME`` resolve to ``urls[NAME]`` (mmengine reads
    its name -> URL table through this function on every load)."""
    from mmengine.runner import checkpoint
    monkeypatch.setattr(checkpoint, 'get_torchvision_models',
                        lambda: dict(urls))


def without_pretrained(node: Any) -> Any:
    """``node`` (a model config) with every ``Pretrained`` init_cfg set to
    None, in place: random initialisation, nothing fetched."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == 'init_cfg' and isinstance(value, dict) and \
                    value.get('type') == 'Pretrained':
                node[key] = None
            else:
                without_pretrained(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            without_pretrained(value)
    return node


def cached_files(cache_dir: str) -> Dict[str, int]:
    """{file name: size} of the hub cache folder (empty if absent)."""
    if not osp.isdir(cache_dir):
        return {}
    return {
        name: os.path.getsize(osp.join(cache_dir, name))
        for name in os.listdir(cache_dir)
    }
