"""Property-based (hypothesis) tests of the readers of user files.

Every generated input either loads or raises one of the package's clear
errors naming the file (or the field) at fault; no other exception, no
partially written output, the source files unchanged. Inputs: random
bytes, real-format files (PNG, JPEG, TIFF, NIfTI, torch checkpoints, COCO
json) truncated or with bytes overwritten, and COCO / slice-metadata json
with entries of wrong types, missing keys, negative / NaN / zero-area
boxes, unknown and duplicate ids.

Budgets: each test states its number of examples (``ci`` profile,
derandomized; ``HYPOTHESIS_PROFILE=long`` runs 50 times as many, random),
see ``conftest.py`` of this folder.
"""
import copy
import functools
import json
import math
import os
import os.path as osp
import shutil
import tempfile

import cv2
import numpy as np
import pytest
import torch

hypothesis = pytest.importorskip('hypothesis')
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from mmplugin_transfuse.data_prep.conversion import \
    DatasetLayoutError  # noqa: E402
from mmplugin_transfuse.seg.models.utils import \
    load_checkpoint_state_dict  # noqa: E402
from mmplugin_transfuse.utils.image_checks import read_image_file  # noqa
from tests.conftest import CONFIG_ROOT, load_tool  # noqa: E402
from tests.test_seg.test_datasets.fake_trees import (  # noqa: E402
    make_cvc_clinicdb_tree, make_isic2017_tree, make_kvasir_seg_tree,
    make_msd_prostate_tree, make_pranet_tree, tree_snapshot)

from .conftest import BUDGET_SCALE  # noqa: E402

PROFILE = os.environ.get('HYPOTHESIS_PROFILE', 'ci')
#: The package's errors for bad input; anything else fails the property.
#: (RuntimeError: DatasetLayoutError, and the checkpoint loader's "not a
#: readable checkpoint"; it must name the file like the others.)
CLEAR_ERRORS = (ValueError, FileNotFoundError, KeyError, RuntimeError)


def budget(n: int):
    return settings(max_examples=n * BUDGET_SCALE.get(PROFILE, 1))


def message(e: BaseException) -> str:
    # KeyError's str() is the repr of its argument
    return str(e.args[0]) if isinstance(e, KeyError) and e.args else str(e)


def loads_or_names(call, *names: str):
    """``call()``; if it raises, the error must be a clear one naming one of
    ``names``. Returns the exception or None."""
    try:
        call()
    except CLEAR_ERRORS as e:
        text = message(e)
        assert any(n in text for n in names), (
            f'{type(e).__name__} names none of {names}: {text}')
        return e
    return None


def _encode(ext: str, array: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(ext, array)
    assert ok
    return buf.tobytes()


_RNG = np.random.default_rng(0)
COLOUR = _RNG.integers(0, 256, (16, 16, 3), dtype=np.uint8)
MASK = (_RNG.random((16, 16)) > 0.5).astype(np.uint8)
ORIGINALS = {
    'png': _encode('.png', COLOUR),
    'jpg': _encode('.jpg', COLOUR),
    'mask_png': _encode('.png', MASK),
}


def mutations(original: bytes):
    """Random bytes; the original truncated; the original with 1-8 bytes
    overwritten; the original's first bytes (header) + random bytes."""
    n = len(original)

    def overwrite(edits):
        data = bytearray(original)
        for pos, value in edits:
            data[pos % n] = value
        return bytes(data)

    return st.one_of(
        st.binary(max_size=300),
        st.integers(0, n - 1).map(lambda k: original[:k]),
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, 255)),
                 min_size=1, max_size=8).map(overwrite),
        st.tuples(st.integers(1, 64), st.binary(min_size=1, max_size=200))
        .map(lambda t: original[:t[0]] + t[1]),
    )


def _write(path: str, data: bytes) -> str:
    with open(path, 'wb') as f:
        f.write(data)
    return path


# ------------------------------------------------------------ image files
@budget(60)
@given(kind=st.sampled_from(['png', 'jpg']), data=st.data())
def test_image_files_load_or_name_the_file(kind, data):
    raw = data.draw(mutations(ORIGINALS[kind]))
    with tempfile.TemporaryDirectory() as tmp:
        path = _write(osp.join(tmp, f'img.{kind}'), raw)
        out = {}

        def read():
            out['img'] = read_image_file(path)

        if loads_or_names(read, path) is None:
            assert out['img'].ndim == 3 and out['img'].shape[2] == 3


@budget(50)
@given(backend=st.sampled_from(['pillow', 'cv2']),
       raw=mutations(ORIGINALS['mask_png']))
def test_mask_files_load_or_name_the_file(backend, raw):
    from mmplugin_transfuse.seg.datasets import CheckedLoadAnnotations
    load = CheckedLoadAnnotations(num_classes=2, imdecode_backend=backend)
    with tempfile.TemporaryDirectory() as tmp:
        path = _write(osp.join(tmp, 'mask.png'), raw)
        results = dict(img_path='img.png', seg_map_path=path,
                       ori_shape=(16, 16), img_shape=(16, 16),
                       seg_fields=[], reduce_zero_label=False)
        if loads_or_names(lambda: load(results), path) is None:
            seg = results['gt_seg_map']
            assert seg.shape == (16, 16) and set(np.unique(seg)) <= {0, 1}


@budget(20)
@given(raw=mutations(_encode('.png', COLOUR[..., 0])))
def test_modality_files_load_or_name_the_file(raw):
    from mmplugin_transfuse.seg.datasets import LoadMultiModalSliceFromFiles
    with tempfile.TemporaryDirectory() as tmp:
        t2 = _write(osp.join(tmp, 's_0000.png'),
                    _encode('.png', COLOUR[..., 0]))
        adc = _write(osp.join(tmp, 's_0001.png'), raw)
        results = dict(modality_paths=[t2, adc])
        load = LoadMultiModalSliceFromFiles(channels=(0, 1, 0))
        if loads_or_names(lambda: load(results), adc) is None:
            assert results['img'].shape == (16, 16, 3)


# ------------------------------------------------------------- COCO json
def _coco() -> dict:
    return dict(
        images=[dict(id=i, file_name=f'{i}.png', width=32, height=32)
                for i in (1, 2)],
        categories=[dict(id=1, name='circle'), dict(id=2, name='square')],
        annotations=[
            dict(id=1, image_id=1, category_id=1, bbox=[2, 3, 10, 12],
                 area=120, iscrowd=0),
            dict(id=2, image_id=2, category_id=2, bbox=[5, 5, 8, 8],
                 area=64, iscrowd=0),
        ])


JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-5, 5),
              st.sampled_from([0.0, -1.0, 1e9, math.nan, math.inf,
                               -math.inf]),
              st.text(max_size=4)),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(
        st.text(max_size=3), inner, max_size=3),
    max_leaves=6)


@st.composite
def mutated_coco(draw):
    """A valid file with 1-3 edits: a field set to another JSON value or
    removed, a box coordinate negative / NaN / zero, an id made unknown or
    duplicate, an entry or a top-level key dropped."""
    coco = _coco()
    for _ in range(draw(st.integers(1, 3))):
        section = draw(st.sampled_from(['images', 'categories',
                                        'annotations', 'top']))
        op = draw(st.sampled_from(['set', 'delete', 'box', 'duplicate',
                                   'unknown_id']))
        if section == 'top':
            key = draw(st.sampled_from(list(coco) or ['images']))
            if op == 'delete':
                coco.pop(key, None)
            else:
                coco[key] = draw(JSON_VALUES)
            continue
        entries = coco.get(section)
        if not isinstance(entries, list) or not entries:
            continue
        i = draw(st.integers(0, len(entries) - 1))
        entry = entries[i]
        if not isinstance(entry, dict):
            continue
        if op == 'duplicate':
            entries.append(copy.deepcopy(entry))
        elif op == 'box' and section == 'annotations':
            box = list(entry.get('bbox') or [0, 0, 1, 1])[:4]
            box += [1] * (4 - len(box))
            box[draw(st.integers(0, 3))] = draw(
                st.sampled_from([-3, 0, math.nan, math.inf, -math.inf]))
            entry['bbox'] = box
        elif op == 'unknown_id':
            key = 'image_id' if section == 'annotations' else 'id'
            entry[key] = draw(st.sampled_from([99, -1, '1', 1.5, None]))
        else:
            key = draw(st.sampled_from(sorted(entry) or ['id']))
            if op == 'delete':
                entry.pop(key, None)
            else:
                entry[key] = draw(JSON_VALUES)
    return coco


def _build_coco(ann_file: str, img_dir: str):
    from mmdet.registry import DATASETS
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    return DATASETS.build(
        dict(type='CheckedCocoDataset', data_root='', ann_file=ann_file,
             data_prefix=dict(img=img_dir + '/'),
             metainfo=dict(classes=('circle', 'square')),
             filter_cfg=dict(filter_empty_gt=False), pipeline=[],
             serialize_data=False))


def _coco_images(tmp: str) -> str:
    img_dir = osp.join(tmp, 'images')
    os.makedirs(img_dir)
    for i in (1, 2):
        _write(osp.join(img_dir, f'{i}.png'), ORIGINALS['png'])
    return img_dir


@budget(80)
@given(coco=mutated_coco())
def test_coco_json_loads_or_names_the_file(coco):
    with tempfile.TemporaryDirectory() as tmp:
        img_dir = _coco_images(tmp)
        ann = osp.join(tmp, 'instances.json')
        with open(ann, 'w') as f:
            json.dump(coco, f)
        loads_or_names(lambda: _build_coco(ann, img_dir), ann)


@budget(20)
@given(raw=mutations(json.dumps(_coco()).encode()))
def test_coco_json_bytes_load_or_name_the_file(raw):
    with tempfile.TemporaryDirectory() as tmp:
        img_dir = _coco_images(tmp)
        ann = _write(osp.join(tmp, 'instances.json'), raw)
        loads_or_names(lambda: _build_coco(ann, img_dir), ann)


def _coco_with(section: str, i: int, key: str, value) -> bytes:
    coco = _coco()
    coco[section][i][key] = value
    return json.dumps(coco).encode()


@pytest.mark.parametrize('raw,expected', [
    pytest.param(_coco_with('images', 0, 'id', [1]),
                 r'images\[0\] "id" must be an integer, got \[1\]',
                 id='list-id'),
    pytest.param(_coco_with('categories', 0, 'id', None),
                 r'categories\[0\] "id" must be an integer, got None',
                 id='null-cat-id'),
    pytest.param(_coco_with('images', 0, 'file_name', None),
                 r'"file_name" must be a non-empty string, got None',
                 id='null-file-name'),
    pytest.param(_coco_with('annotations', 1, 'id', 1),
                 'repeats annotation id 1', id='duplicate-ann-id'),
    pytest.param(_coco_with('annotations', 0, 'area', 'big'),
                 r'"area" must be a finite number', id='text-area'),
    pytest.param(b'\x80' + json.dumps(_coco()).encode(),
                 r'not UTF-8 text \(byte 0', id='not-utf8'),
    pytest.param(json.dumps(_coco()).encode()[:-5],
                 r'not valid JSON \(line 1, column', id='truncated-json'),
    pytest.param(b'3', 'top level of a COCO file must be a JSON object, '
                 'got int', id='top-level-number'),
])
def test_coco_json_examples_name_the_file(tmp_path, raw, expected):
    """Wrong-typed ids and names, non-UTF-8 or broken JSON and a top level
    that is not an object: the dataset's ValueError names the file and
    the field, never a TypeError from indexing or pycocotools' assertion."""
    img_dir = _coco_images(str(tmp_path))
    ann = _write(str(tmp_path / 'instances.json'), raw)
    with pytest.raises(ValueError, match=expected) as e:
        _build_coco(ann, img_dir)
    assert ann in str(e.value)


def test_coco_json_clear_errors(tmp_path):
    """What the dataset does name (the property's other outcomes)."""
    img_dir = _coco_images(str(tmp_path))
    for raw, expected in (
            (_coco_with('annotations', 0, 'bbox', [1, 2, math.nan, 3]),
             'bbox must be 4 finite numbers'),
            (_coco_with('annotations', 0, 'bbox', [1, 2, 0, 3]),
             'zero or negative width/height'),
            (_coco_with('annotations', 0, 'image_id', 99),
             'image_id is not the id of an entry'),
            (_coco_with('images', 1, 'id', 1), 'repeats image id 1')):
        ann = _write(str(tmp_path / 'instances.json'), raw)
        with pytest.raises(ValueError, match=expected) as e:
            _build_coco(ann, img_dir)
        assert ann in str(e.value)


# ------------------------------------------------- seg datasets (folders)
@functools.lru_cache(maxsize=None)
def _dataset_cfg(base: str, key: str):
    from mmengine import Config
    cfg = Config.fromfile(osp.join(CONFIG_ROOT, '_base_', 'datasets', base))
    return cfg[key].dataset


def _seg_dataset(base: str, key: str, root: str):
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS

    from tests.test_seg.test_datasets.fake_trees import point_dataset_to
    init_default_scope('mmseg')
    cfg = copy.deepcopy(_dataset_cfg(base, key))
    cfg['serialize_data'] = False  # its gc.collect() costs 0.2 s a build
    return DATASETS.build(point_dataset_to(cfg, root))


@pytest.fixture(scope='module')
def converted(tmp_path_factory):
    """Converted Kvasir-SEG (polyp), ISIC 2017 and MSD prostate trees."""
    root = tmp_path_factory.mktemp('converted')
    out = {}
    for name, make, tool, base, key in (
            ('kvasir', make_kvasir_seg_tree, 'kvasir_seg.py',
             'kvasir_seg.py', 'val_dataloader'),
            ('isic', make_isic2017_tree, 'isic2017.py', 'isic2017.py',
             'val_dataloader'),
            ('prostate', make_msd_prostate_tree, 'prostate_msd.py',
             'prostate_msd.py', 'val_dataloader')):
        src, dst = str(root / f'{name}_src'), str(root / name)
        make(src)
        argv = [src, '--out', dst]
        if name in ('kvasir', 'prostate'):
            argv += ['--val-ratio', '0.5']
        load_tool(f'dataset_converters/{tool}').main(argv)
        out[name] = (dst, base, key)
    return out


@pytest.mark.parametrize('name', ['kvasir', 'isic', 'prostate'])
def test_seg_dataset_with_files_removed(converted, name):
    """A data file removed: the dataset either loads without that file
    being needed or names the file, its sample or its folder. (A split
    file removed: see test_seg_dataset_without_its_split_file.)"""
    dst, base, key = converted[name]
    files = sorted(
        osp.relpath(osp.join(d, f), dst) for d, _, fs in os.walk(dst)
        for f in fs if not d.endswith('splits'))

    @budget(10)
    @given(st.sampled_from(files))
    def check(rel):
        with tempfile.TemporaryDirectory() as tmp:
            root = osp.join(tmp, 'data')
            shutil.copytree(dst, root)
            os.remove(osp.join(root, rel))
            ds = {}

            def build():
                ds['ds'] = _seg_dataset(base, key, root)

            stem = osp.splitext(osp.basename(rel))[0]
            loads_or_names(build, osp.basename(rel), stem,
                           stem.rsplit('_', 1)[0],  # sample of a modality
                           osp.join(root, osp.dirname(rel)))
            if 'ds' in ds:  # the file was not one of this split's
                for i in range(len(ds['ds'])):
                    info = ds['ds'].get_data_info(i)
                    assert osp.isfile(info['img_path'])
                    assert osp.isfile(info['seg_map_path'])

    check()


@st.composite
def mutated_slices(draw, slices: dict):
    slices = copy.deepcopy(slices)
    for _ in range(draw(st.integers(1, 3))):
        if not slices:
            break
        name = draw(st.sampled_from(sorted(slices)))
        entry = slices[name]
        op = draw(st.sampled_from(['set', 'delete', 'drop_slice',
                                   'replace_entry']))
        if op == 'drop_slice':
            slices.pop(name, None)
            continue
        if op == 'replace_entry' or not isinstance(entry, dict):
            slices[name] = draw(JSON_VALUES)
            continue
        key = draw(st.sampled_from(sorted(entry) or ['spacing']))
        if op == 'delete':
            entry.pop(key, None)
        else:
            entry[key] = draw(JSON_VALUES)
    return slices


def test_prostate_slice_metadata_loads_or_names_the_file(converted):
    dst, base, key = converted['prostate']
    meta = osp.join(dst, 'slices.json')
    with open(meta) as f:
        slices = json.load(f)

    @budget(30)
    @given(mutated_slices(slices))
    def check(mutated):
        with tempfile.TemporaryDirectory() as tmp:
            root = osp.join(tmp, 'data')
            shutil.copytree(dst, root)
            path = osp.join(root, 'slices.json')
            with open(path, 'w') as f:
                json.dump(mutated, f)
            loads_or_names(lambda: _seg_dataset(base, key, root), path)

    check()


def test_seg_dataset_without_its_split_file(converted, tmp_path):
    """A FileNotFoundError naming the split file (mmseg itself only
    asserts, which ``python -O`` removes); a split file that is not text
    is a ValueError naming it."""
    dst, base, key = converted['kvasir']
    root = str(tmp_path / 'data')
    shutil.copytree(dst, root)
    split = osp.join(root, 'splits', 'val.txt')
    os.remove(split)
    with pytest.raises(FileNotFoundError, match='split file') as e:
        _seg_dataset(base, key, root)
    assert split in str(e.value)
    _write(split, b'\xff\xfe\x00bad')
    with pytest.raises(ValueError, match='not UTF-8 text') as e:
        _seg_dataset(base, key, root)
    assert split in str(e.value)


def test_prostate_slice_metadata_bytes(converted):
    """slices.json random, truncated or overwritten: the meta reader's
    errors name the file (JSON position, top level not an object, an
    entry or field of the wrong type)."""
    dst, base, key = converted['prostate']
    with open(osp.join(dst, 'slices.json'), 'rb') as f:
        original = f.read()

    @budget(20)
    @given(raw=mutations(original))
    def check(raw):
        with tempfile.TemporaryDirectory() as tmp:
            root = osp.join(tmp, 'data')
            shutil.copytree(dst, root)
            path = _write(osp.join(root, 'slices.json'), raw)
            loads_or_names(lambda: _seg_dataset(base, key, root), path)

    check()


# ------------------------------------------------------- dataset converters
CONVERTERS = {
    'kvasir_seg': (make_kvasir_seg_tree, []),
    'cvc_clinicdb': (make_cvc_clinicdb_tree, []),
    'polyp_pranet': (make_pranet_tree, []),
    'isic2017': (make_isic2017_tree, []),
    'prostate_msd': (make_msd_prostate_tree, []),
}


@pytest.mark.parametrize('converter', sorted(CONVERTERS))
def test_converter_on_a_mutated_source_file(tmp_path, converter):
    """One source file mutated: the conversion succeeds or names the file;
    after a failure no output is left; the source is never written."""
    make, extra = CONVERTERS[converter]
    pristine = str(tmp_path / 'pristine')
    make(pristine)
    files = sorted(
        osp.relpath(osp.join(d, f), pristine)
        for d, _, fs in os.walk(pristine) for f in fs
        if not f.endswith(('.json', '.txt')))
    tool = load_tool(f'dataset_converters/{converter}.py')

    @budget(12)
    @given(rel=st.sampled_from(files), data=st.data())
    def check(rel, data):
        with tempfile.TemporaryDirectory() as tmp:
            src, out = osp.join(tmp, 'src'), osp.join(tmp, 'out')
            shutil.copytree(pristine, src)
            path = osp.join(src, rel)
            with open(path, 'rb') as f:
                original = f.read()
            _write(path, data.draw(mutations(original)))
            before = tree_snapshot(src)
            err = loads_or_names(
                lambda: tool.main([src, '--out', out] + extra), path)
            assert tree_snapshot(src) == before
            if err is not None:
                left = [f for _, _, fs in os.walk(out) for f in fs] \
                    if osp.isdir(out) else []
                assert not left, f'partial output after {err}: {left}'

    check()


# -------------------------------------------------- checkpoint converters
def _transfuse_source() -> dict:
    """20 official TransFuse-S keys (1-element tensors): a small zip file
    of the official format."""
    from tests.test_tools.test_transfuse_converters import \
        _tiny_official_state_dict
    return dict(list(_tiny_official_state_dict().items())[:20])


@pytest.mark.parametrize('name', ['transfuse_official', 'smca_official'])
def test_checkpoint_converter_on_mutated_bytes(tmp_path, name):
    src0 = str(tmp_path / 'official.pth')
    if name == 'transfuse_official':
        torch.save(_transfuse_source(), src0)
    else:
        torch.save({'model': {'query_embed.weight': torch.ones(2, 4)}}, src0)
    with open(src0, 'rb') as f:
        original = f.read()
    tool = load_tool(f'model_converters/{name}.py')

    @budget(25)
    @given(raw=mutations(original))
    def check(raw):
        with tempfile.TemporaryDirectory() as tmp:
            src = _write(osp.join(tmp, 'official.pth'), raw)
            dst = osp.join(tmp, 'converted.pth')
            if name == 'transfuse_official':
                # the pretrained-weights reader itself (init_cfg
                # checkpoints), without the converter's own wrapping
                loads_or_names(lambda: load_checkpoint_state_dict(
                    src, 'model.backbone.init_cfg.checkpoint'), src)
            # content errors of a readable file name the field, prefixed
            # with the converter's name; unreadable files name the file
            err = loads_or_names(lambda: tool.main([src, dst]), src,
                                 f'{name}:')
            if err is not None:
                assert not osp.exists(dst)
            with open(src, 'rb') as f:
                assert f.read() == raw

    check()
