"""COCO detection dataset that refuses malformed annotation files."""
import math
import os
import os.path as osp
import stat
from functools import partial
from typing import Any, Dict, List, Optional, Sequence

from mmdet.datasets import CocoDataset
from mmdet.datasets.api_wrappers import COCO
from mmdet.registry import DATASETS

from mmplugin_transfuse.utils import first_n_and_more
from mmplugin_transfuse.utils.messages import load_json_file

#: How many offending entries an error message lists before "... and N more".
MAX_REPORTED = 10


def _report(source: str, what: str, problems: List[str]) -> str:
    return f'{source}: {what}:\n  ' + first_n_and_more(
        problems, MAX_REPORTED, sep='\n  ')


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    """A finite JSON number (``true``/``false`` are not numbers here)."""
    return (isinstance(v, (int, float)) and not isinstance(v, bool)
            and math.isfinite(v))


#: field -> (check, what is expected); a missing field is reported apart.
_IMAGE_FIELDS = {
    'id': (_is_int, 'an integer'),
    'file_name': (lambda v: isinstance(v, str) and v != '',
                  'a non-empty string'),
    'width': (lambda v: _is_number(v) and v > 0, 'a positive number'),
    'height': (lambda v: _is_number(v) and v > 0, 'a positive number'),
}
_CATEGORY_FIELDS = {
    'id': (_is_int, 'an integer'),
    'name': (lambda v: isinstance(v, str), 'a string'),
}
_ANNOTATION_FIELDS = {
    'id': (_is_int, 'an integer'),
    'image_id': (_is_int, 'an integer'),
    'category_id': (_is_int, 'an integer'),
    'area': (_is_number, 'a finite number'),
}
#: optional annotation fields (mmdet reads them with ``.get``)
_ANNOTATION_OPTIONAL = {
    'iscrowd': (lambda v: v in (0, 1), '0 or 1'),
}


def _entry_problems(entry: Any, fields: dict, optional: dict = {}) -> str:
    """What is wrong with one entry of a COCO list ('' when nothing)."""
    if not isinstance(entry, dict):
        return f'is not an object: {entry!r}'
    lacks = [k for k in fields if k not in entry]
    wrong = [
        f'"{k}" must be {what}, got {entry[k]!r}'
        for k, (ok, what) in {**fields, **optional}.items()
        if k in entry and not ok(entry[k])
    ]
    return '; '.join(([f'lacks {lacks}'] if lacks else []) + wrong)


def validate_coco_dict(dataset: Any,
                       source: str,
                       require_annotations: bool = True,
                       classes: Optional[Sequence[str]] = None) -> None:
    """Raise ``ValueError`` naming ``source`` and the offending entries.

    Checks, in this order (each error lists up to ``MAX_REPORTED`` entries):

    1. the top level is an object with ``images`` and ``categories`` lists,
       and ``annotations`` when ``require_annotations`` (test-dev style
       image-info files have none);
    2. every image is an object with an integer ``id``, a non-empty string
       ``file_name`` and positive numbers ``width``, ``height``; every
       category an integer ``id`` and a string ``name``; ids are unique;
    3. every name of ``classes`` (the config's ``metainfo.classes``) is a
       category name (otherwise mmdet silently trains without that class);
    4. every annotation is an object with a unique integer ``id``, an
       ``image_id`` that is an image id, a ``category_id`` that is a
       category id, a finite number ``area`` (mmdet reads it), and
       ``iscrowd`` 0 or 1 when present;
    5. every annotation's ``bbox`` is 4 finite numbers ``[x, y, w, h]`` with
       ``w > 0`` and ``h > 0`` (crowd boxes included).

    The types are those of the COCO format and of what mmdet and
    pycocotools index by (ids are dict keys and are sorted).

    Images without annotations are valid (whether training keeps them is
    ``filter_cfg.filter_empty_gt``'s decision, as in mmdet).
    """
    if not isinstance(dataset, dict):
        raise ValueError(f'{source}: the top level of a COCO file must be a '
                         f'JSON object, got {type(dataset).__name__}')
    required = ['images', 'categories']
    if require_annotations:
        required.append('annotations')
    missing = [k for k in required if k not in dataset]
    if missing:
        raise ValueError(
            f'{source}: missing top-level key(s) {missing}; a COCO detection '
            'file needs "images", "annotations" and "categories" (only '
            'test-mode image-info files may omit "annotations"); found keys '
            f'{sorted(dataset)}')
    for key in ('images', 'categories', 'annotations'):
        if key in dataset and not isinstance(dataset[key], list):
            raise ValueError(f'{source}: "{key}" must be a list, got '
                             f'{type(dataset[key]).__name__}')

    images: Dict[int, dict] = {}
    problems = []
    for i, img in enumerate(dataset['images']):
        wrong = _entry_problems(img, _IMAGE_FIELDS)
        if wrong:
            problems.append(f'images[{i}] {wrong}: {img}')
        elif img['id'] in images:
            problems.append(f'images[{i}] repeats image id {img["id"]}')
        else:
            images[img['id']] = img
    if problems:
        raise ValueError(_report(source, 'invalid "images" entries',
                                 problems))

    categories: Dict[int, str] = {}
    for i, cat in enumerate(dataset['categories']):
        wrong = _entry_problems(cat, _CATEGORY_FIELDS)
        if wrong:
            problems.append(f'categories[{i}] {wrong}: {cat}')
        elif cat['id'] in categories:
            problems.append(f'categories[{i}] repeats category id '
                            f'{cat["id"]}')
        else:
            categories[cat['id']] = cat['name']
    if problems:
        raise ValueError(
            _report(source, 'invalid "categories" entries', problems))
    if classes is not None:
        absent = [c for c in classes if c not in categories.values()]
        if absent:
            raise ValueError(
                f'{source}: metainfo classes {absent} are not category names '
                f'of the file (its categories: {sorted(categories.values())})')

    def where(i: int, ann: dict) -> str:
        image_id = ann.get('image_id')
        img = images.get(image_id) if _is_int(image_id) else None
        name = f', file_name {img["file_name"]!r}' if img else ''
        return (f'annotations[{i}] (id {ann.get("id")!r}, image_id '
                f'{image_id!r}{name})')

    annotation_ids = set()
    for i, ann in enumerate(dataset.get('annotations', [])):
        if not isinstance(ann, dict):
            problems.append(f'annotations[{i}] is not an object: {ann!r}')
            continue
        wrong = _entry_problems(ann, _ANNOTATION_FIELDS,
                                _ANNOTATION_OPTIONAL)
        if wrong:
            problems.append(f'{where(i, ann)} {wrong}')
        if _is_int(ann.get('id')):
            if ann['id'] in annotation_ids:
                problems.append(f'{where(i, ann)}: repeats annotation id '
                                f'{ann["id"]}')
            annotation_ids.add(ann['id'])
        if _is_int(ann.get('image_id')) and ann['image_id'] not in images:
            problems.append(f'{where(i, ann)}: image_id is not the id of an '
                            'entry of "images"')
        if (_is_int(ann.get('category_id'))
                and ann['category_id'] not in categories):
            problems.append(
                f'{where(i, ann)}: category_id {ann.get("category_id")} is '
                f'not in "categories" (ids {sorted(categories)})')
        bbox = ann.get('bbox')
        if not (isinstance(bbox, (list, tuple)) and len(bbox) == 4
                and all(_is_number(v) for v in bbox)):
            problems.append(f'{where(i, ann)}: bbox must be 4 finite '
                            f'numbers [x, y, w, h], got {bbox!r}')
        elif bbox[2] <= 0 or bbox[3] <= 0:
            problems.append(f'{where(i, ann)}: bbox {bbox} has zero or '
                            'negative width/height')
    if problems:
        raise ValueError(
            _report(source, 'invalid "annotations" entries', problems))


class CheckedCOCO(COCO):
    """mmdet's COCO api that validates the file before indexing it.

    Args:
        annotation_file (str): Local path of the json file.
        source (str, optional): Name used in errors (the dataset's
            ``ann_file``, which may be a remote path). Defaults to
            ``annotation_file``.
        require_annotations (bool): See :func:`validate_coco_dict`.
        classes (Sequence[str], optional): See :func:`validate_coco_dict`.
    """

    def __init__(self,
                 annotation_file: str,
                 source: Optional[str] = None,
                 require_annotations: bool = True,
                 classes: Optional[Sequence[str]] = None) -> None:
        self._source = source or annotation_file
        self._require_annotations = require_annotations
        self._classes = classes
        # pycocotools' own reading gives JSON errors without the file name
        # and asserts the top level is an object: read the file here
        # (``__init__(None)`` only sets up the empty index)
        super().__init__(None)
        self.dataset = load_json_file(annotation_file, self._source)
        self.createIndex()
        self.img_ann_map = self.imgToAnns
        self.cat_img_map = self.catToImgs

    def createIndex(self) -> None:  # noqa: N802 (pycocotools name)
        validate_coco_dict(self.dataset, self._source,
                           self._require_annotations, self._classes)
        super().createIndex()


@DATASETS.register_module()
class CheckedCocoDataset(CocoDataset):
    """``CocoDataset`` that fails early and clearly on malformed input.

    - The annotation json is checked by :func:`validate_coco_dict` (missing
      ``images``/``annotations``/``categories``, unknown image or category
      ids, zero/negative or non-finite boxes, config classes absent from the
      file); the ``ValueError`` names the json file and the offending
      entries. In ``test_mode`` the file may lack ``annotations``.
    - Images without annotations are kept in the data list; for training
      ``filter_cfg=dict(filter_empty_gt=True)`` drops them as in mmdet.
    - With ``check_image_files=True`` (default) every local image file is
      stat-ed once after loading: missing or empty files raise an error
      listing them before any training step. Unreadable contents are caught
      per sample by :class:`CheckedLoadImageFromFile`.

    Args:
        check_image_files (bool): Stat the image files at start-up.
            Defaults to True.
        *args, **kwargs: Those of :class:`mmdet.datasets.CocoDataset`.
    """

    def __init__(self, *args, check_image_files: bool = True, **kwargs):
        self.check_image_files = check_image_files
        super().__init__(*args, **kwargs)

    def load_data_list(self) -> List[dict]:
        # mmdet builds ``self.COCOAPI(local_path)``; bind what the checks
        # need from this dataset (instance attribute, the class keeps COCO)
        self.COCOAPI = partial(
            CheckedCOCO,
            source=self.ann_file,
            require_annotations=not self.test_mode,
            classes=self.metainfo.get('classes'))
        data_list = super().load_data_list()
        if self.check_image_files and self.backend_args is None:
            self._check_image_files(data_list)
        return data_list

    def _check_image_files(self, data_list: List[dict]) -> None:
        missing, not_files, empty = [], [], []
        for info in data_list:
            path = info['img_path']
            if '://' in path:
                continue
            try:
                st = os.stat(path)
            except (OSError, ValueError):
                # absent, a path through a file, or a NUL in file_name
                missing.append(repr(path) if '\0' in path else path)
                continue
            if not stat.S_ISREG(st.st_mode):
                not_files.append(path)
            elif st.st_size == 0:
                empty.append(path)
        if missing:
            raise FileNotFoundError(
                _report(
                    self.ann_file, f'{len(missing)} image file(s) listed '
                    f'in "images" do not exist under data_prefix.img '
                    f'{osp.abspath(self.data_prefix.get("img", ""))}',
                    missing))
        if not_files:
            raise ValueError(
                _report(
                    self.ann_file, f'{len(not_files)} "file_name"(s) of '
                    '"images" are not regular files (a folder?)', not_files))
        if empty:
            raise ValueError(
                _report(self.ann_file,
                        f'{len(empty)} image file(s) are empty (0 bytes)',
                        empty))
