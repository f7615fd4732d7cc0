"""ONNX export of both models: ONNX Runtime against PyTorch, static and
dynamic shapes, and the config's own test loop on the exported model."""
import glob
import os.path as osp
import sys

import pytest
import torch
from mmengine.config import Config

from tests.conftest import CONFIG_ROOT, load_tool

pytest.importorskip('onnxruntime')
pytest.importorskip('onnxscript')

from mmplugin_transfuse.deploy import (build_model,  # noqa: E402
                                       compare_with_pytorch, export_onnx,
                                       export_wrapper)
from mmplugin_transfuse.deploy.onnx_export import output_names  # noqa: E402

pytorch2onnx = load_tool('deployment/pytorch2onnx.py')
onnx_test = load_tool('deployment/onnx_test.py')


def _config(pattern: str) -> str:
    found = sorted(glob.glob(osp.join(CONFIG_ROOT, pattern)))
    assert found, pattern
    return found[0]


SEG_CFG = _config('transfuse/transfuse-s_r34-deit-s_*synthetic-polyp-128x128.py')
SMCA_CFG = _config('smca_detr/smca-detr_r18_*synthetic-shapes-*.py')
SMCA_MS_CFG = _config('smca_detr/smca-detr-ms_r18_*synthetic-shapes-*.py')
# tiny versions of the synthetic configs (export time grows with the graph)
SEG_TINY = {
    'model.backbone.global_branch.depth': 1,
    'model.backbone.cnn.depth': 18
}
TINY_DIMS = 32


def _tiny_det(path: str, **options) -> Config:
    """A synthetic SMCA config at 32 channels, one encoder and one decoder
    layer (the graph and so the export time shrink; every module of the
    real config stays), with ``options`` (dotted keys) on top."""
    cfg = Config.fromfile(path)

    def shrink(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == 'embed_dims':
                    node[key] = TINY_DIMS
                elif key == 'feedforward_channels':
                    node[key] = 2 * TINY_DIMS
                elif key == 'num_feats':  # sine encoding: 2 * num_feats
                    node[key] = TINY_DIMS // 2
                elif key == 'num_layers':
                    node[key] = 1
                else:
                    shrink(value)
        elif isinstance(node, (list, tuple)):
            for value in node:
                shrink(value)

    shrink(cfg.model)
    cfg.model.neck.out_channels = TINY_DIMS
    cfg.merge_from_dict(options)
    return cfg


def _cli(options: dict) -> list:
    """``--cfg-options`` arguments."""
    return [f'{key}={value}' for key, value in options.items()]


def _load(path: str, tiny: dict) -> Config:
    cfg = Config.fromfile(path)
    cfg.merge_from_dict(tiny)
    return cfg


def _save_random_checkpoint(cfg: Config, path: str) -> None:
    model = build_model(cfg, None)
    torch.manual_seed(0)
    model.init_weights()
    torch.save({'state_dict': model.state_dict()}, path)


@pytest.fixture(scope='module')
def seg_export(tmp_path_factory):
    """A random TransFuse-S checkpoint and its dynamic ONNX export, made by
    the tool's command line (which checks ORT against PyTorch on two
    batch sizes and input sizes and returns 0 when they agree)."""
    folder = tmp_path_factory.mktemp('seg_export')
    ckpt, out = str(folder / 'seg.pth'), str(folder / 'seg.onnx')
    cfg = _load(SEG_CFG, SEG_TINY)
    _save_random_checkpoint(cfg, ckpt)
    status = pytorch2onnx.main([
        SEG_CFG, ckpt, '--out', out, '--shape', '64', '64', '--dynamic',
        '--cfg-options', *_cli(SEG_TINY)
    ])
    return status, ckpt, out


def test_segmentation_dynamic_export_matches_pytorch(seg_export):
    """TransFuse-S: dynamic N, H, W; ORT logits equal the segmentor's
    ``mode='tensor'`` output at a third batch size and size, and a
    perturbed model is caught (the tool's exit-1 path)."""
    status, ckpt, out = seg_export
    assert status == 0
    cfg = _load(SEG_CFG, SEG_TINY)
    model = build_model(cfg, ckpt)
    wrapper = export_wrapper(cfg, model)
    x = torch.randn(3, 3, 96, 48)
    with torch.no_grad():
        expected = model(x, None, mode='tensor')
    rows = compare_with_pytorch(wrapper, out, [x], output_names(cfg))
    assert [r['output'] for r in rows] == ['seg_logits']
    assert rows[0]['ok'] and rows[0]['max_rel'] <= 1e-4
    assert expected.shape == (3, 1, 24, 12)  # fused 1/4 head, 1 channel
    # the same ONNX file against a changed model: the check must fail
    with torch.no_grad():
        model.decode_head.conv_seg.bias.add_(1.)
    rows = compare_with_pytorch(wrapper, out, [x], output_names(cfg))
    assert not rows[0]['ok']


def _det_samples(x):
    from mmdet.structures import DetDataSample
    h, w = x.shape[-2:]
    return [
        DetDataSample(
            metainfo=dict(
                img_shape=(h, w), batch_input_shape=(h, w),
                scale_factor=(1., 1.), ori_shape=(h, w)))
        for _ in range(x.shape[0])
    ]


def _random_det(cfg: Config):
    model = build_model(cfg, None)
    torch.manual_seed(0)
    model.init_weights()
    return model.eval()


@pytest.mark.parametrize('path,dynamic', [(SMCA_CFG, True),
                                          (SMCA_MS_CFG, False)],
                         ids=['single-scale-dynamic', 'multi-scale-static'])
def test_detection_export_equals_predict(tmp_path, path, dynamic):
    """SMCA-DETR: ``dets`` / ``labels`` of ONNX Runtime equal
    ``model.predict(input, samples, rescale=False)`` (mmdet's own
    post-processing) of each image. Dynamic N, H, W: at the traced batch and
    size and at another batch and size; static: at the traced shape (the
    multi-scale graph with dynamic axes is traced by the variant check and
    ``tools/deployment/check_export_matrix.py``; its ONNX translation alone
    takes half a minute on two cores)."""
    import onnxruntime as ort
    cfg = _tiny_det(path)
    model = _random_det(cfg)
    divisor = max(getattr(model, 'feat_strides', None)
                  or [model.feat_stride])
    example = torch.randn(2, 3, 2 * divisor, 3 * divisor)
    out = str(tmp_path / 'det.onnx')
    export_onnx(export_wrapper(cfg, model), example, out, output_names(cfg),
                dynamic_divisor=divisor if dynamic else None)
    session = ort.InferenceSession(out, providers=['CPUExecutionProvider'])
    k = cfg.model.test_cfg.get('max_per_img', cfg.model.num_queries)
    shapes = [(2, (2 * divisor, 3 * divisor))]
    if dynamic:
        shapes.append((3, (3 * divisor, 2 * divisor)))
    for n, size in shapes:
        x = torch.randn(n, 3, *size)
        dets, labels = session.run(['dets', 'labels'], {'input': x.numpy()})
        assert dets.shape == (n, k, 5) and labels.shape == (n, k)
        with torch.no_grad():
            preds = model.predict(x, _det_samples(x), rescale=False)
        for i, pred in enumerate(p.pred_instances for p in preds):
            got = torch.from_numpy(dets[i])
            torch.testing.assert_close(got[:, :4], pred.bboxes, atol=1e-3 *
                                       max(size), rtol=0)
            torch.testing.assert_close(got[:, 4], pred.scores, atol=1e-5,
                                       rtol=0)
            assert labels[i].tolist() == pred.labels.tolist()
            assert (got[:, [0, 2]] <= size[1]).all()  # clamped to the image
            assert (got[:, [1, 3]] <= size[0]).all()


def test_detection_variant_traces_with_dynamic_shapes():
    """A variant other than the exported default (full covariance scales,
    shared by the heads): ``torch.export`` traces the detector with dynamic
    N, H, W (no data-dependent branch) and the trace equals the eager model
    at another batch and size. (``tools/deployment/check_export_matrix.py``
    checks every variant of every config.)"""
    from mmplugin_transfuse.deploy import export_program
    cfg = _tiny_det(SMCA_CFG, **{
        'model.decoder.layer_cfg.scale_mode': 'Cov',
        'model.decoder.layer_cfg.head_shared_prior': True
    })
    model = _random_det(cfg)
    wrapper = export_wrapper(cfg, model)
    d = model.feat_stride
    program = export_program(wrapper, torch.randn(2, 3, 2 * d, 3 * d), d)
    x = torch.randn(3, 3, 3 * d, 2 * d)
    with torch.no_grad():
        (dets, labels), (ref_dets, ref_labels) = program.module()(x), \
            wrapper(x)
    assert dets.shape == (3, cfg.model.test_cfg.max_per_img, 5)
    torch.testing.assert_close(dets, ref_dets, atol=1e-5, rtol=0)
    assert torch.equal(labels, ref_labels)


def _seg_data_options(root: str) -> list:
    # mmseg's visualization hook reads `runner.iter`, which builds the
    # train loop: the train set must exist too
    return [
        f'{loader}.{key}' for loader in ('train_dataloader', 'test_dataloader')
        for key in (f'dataset.data_root={root}', 'num_workers=0',
                    'persistent_workers=False')
    ]


def test_onnx_test_metrics_equal_pytorch(tmp_path, synthetic_polyp_root,
                                         seg_export):
    """``onnx_test.py`` runs the config's test loop on the ONNX model: the
    same per-image Dice / IoU as the PyTorch checkpoint through the stock
    test loop, to 3 decimals, and --show-dir writes one image per sample."""
    test_tool = load_tool('test.py')
    _, ckpt, out = seg_export
    options = _cli(SEG_TINY) + _seg_data_options(synthetic_polyp_root)
    from mmengine.registry import RUNNERS
    cfg_pt = test_tool.setup_cfg([
        SEG_CFG, ckpt, '--work-dir', str(tmp_path / 'pt'),
        '--cfg-options', *options])
    cfg_pt.test_dataloader.batch_size = 1
    ref = RUNNERS.build(cfg_pt).test()
    show = tmp_path / 'show'
    # mmengine keeps one Visualizer per name and process: a new name, so
    # this run's drawing goes to its own --show-dir
    got = onnx_test.main([
        SEG_CFG, out, '--work-dir', str(tmp_path / 'ort'), '--show-dir',
        str(show), '--cfg-options', *options,
        f'visualizer.name=onnx_test_{tmp_path.name}'])
    keys = [k for k in ref if 'mDice' in k or 'mIoU' in k]
    assert keys
    for key in keys:
        assert round(got[key], 3) == round(ref[key], 3), key
    num_val = len(open(osp.join(synthetic_polyp_root, 'splits',
                                'val.txt')).read().split())
    assert len(list(show.rglob('*.jpg')) + list(show.rglob('*.png'))) == \
        num_val


def test_missing_extra_names_it(monkeypatch):
    from mmplugin_transfuse.deploy import require_deploy_extra
    # a None entry in sys.modules makes `import onnxruntime` fail
    monkeypatch.setitem(sys.modules, 'onnxruntime', None)
    with pytest.raises(ImportError, match=r'onnxruntime.*'
                       r'mmplugin_transfuse\[deploy\]'):
        require_deploy_extra()


def test_latency_rows_for_onnxruntime(tmp_path, seg_export, monkeypatch):
    """``latency.py --backends pytorch onnxruntime``: a row per backend, the
    ONNX Runtime row's ``vs_pytorch`` is its latency over the same model's
    PyTorch row of the same run. (The export itself is the fixture's,
    copied, rather than made again: it is tested above.)"""
    import csv
    import shutil

    import mmplugin_transfuse.deploy as deploy
    latency = load_tool('benchmark/latency.py')
    exported = []

    def copy_export(wrapper, example, path, names, **kwargs):
        assert tuple(example.shape) == (1, 3, 64, 64)
        exported.append(path)
        shutil.copy(seg_export[2], path)

    monkeypatch.setattr(deploy, 'export_onnx', copy_export)
    out = str(tmp_path / 'latency.csv')
    latency.main([
        '--task', 'seg', '--seg-models', SEG_CFG, '--seg-sizes', '64x64',
        '--runs', '2', '--warmup', '0', '--no-flops', '--backends',
        'pytorch', 'onnxruntime', '--cfg-options', *_cli(SEG_TINY),
        '--out', out
    ])
    with open(out) as f:
        rows = list(csv.DictReader(f))
    assert len(exported) == 1
    assert [r['backend'] for r in rows] == ['pytorch', 'onnxruntime']
    torch_row, ort_row = rows
    assert int(ort_row['runs']) == 2
    assert float(ort_row['vs_pytorch']) == pytest.approx(
        float(ort_row['latency_ms']) / float(torch_row['latency_ms']))
    assert float(torch_row['vs_pytorch']) == 1.0
