"""COCO detection dataset that refuses malformed annotation files."""
import math
import os
import os.path as osp
from functools import partial
from typing import Any, Dict, List, Optional, Sequence

from mmdet.datasets import CocoDataset
from mmdet.datasets.api_wrappers import COCO
from mmdet.registry import DATASETS

from mmplugin_transfuse.utils import first_n_and_more

#: How many offending entries an error message lists before "... and N more".
MAX_REPORTED = 10


def _report(source: str, what: str, problems: List[str]) -> str:
    return f'{source}: {what}:\n  ' + first_n_and_more(
        problems, MAX_REPORTED, sep='\n  ')


def validate_coco_dict(dataset: Any,
                       source: str,
                       require_annotations: bool = True,
                       classes: Optional[Sequence[str]] = None) -> None:
    """Raise ``ValueError`` naming ``source`` and the offending entries.

    Checks, in this order (each error lists up to ``MAX_REPORTED`` entries):

    1. the top level is an object with ``images`` and ``categories`` lists,
       and ``annotations`` when ``require_annotations`` (test-dev style
       image-info files have none);
    2. every image has ``id``, ``file_name``, ``width``, ``height``; every
       category ``id`` and ``name``; ids are unique;
    3. every name of ``classes`` (the config's ``metainfo.classes``) is a
       category name (otherwise mmdet silently trains without that class);
    4. every annotation's ``image_id`` is an image id and ``category_id`` a
       category id;
    5. every annotation's ``bbox`` is 4 finite numbers ``[x, y, w, h]`` with
       ``w > 0`` and ``h > 0`` (crowd boxes included).

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

    images: Dict[Any, dict] = {}
    problems = []
    for i, img in enumerate(dataset['images']):
        lacks = [k for k in ('id', 'file_name', 'width', 'height')
                 if not isinstance(img, dict) or k not in img]
        if lacks:
            problems.append(f'images[{i}] lacks {lacks}: {img}')
        elif img['id'] in images:
            problems.append(f'images[{i}] repeats image id {img["id"]}')
        else:
            images[img['id']] = img
    if problems:
        raise ValueError(_report(source, 'invalid "images" entries',
                                 problems))

    categories: Dict[Any, str] = {}
    for i, cat in enumerate(dataset['categories']):
        lacks = [k for k in ('id', 'name')
                 if not isinstance(cat, dict) or k not in cat]
        if lacks:
            problems.append(f'categories[{i}] lacks {lacks}: {cat}')
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
        img = images.get(ann.get('image_id'))
        name = f', file_name {img["file_name"]!r}' if img else ''
        return (f'annotations[{i}] (id {ann.get("id")}, image_id '
                f'{ann.get("image_id")}{name})')

    for i, ann in enumerate(dataset.get('annotations', [])):
        if not isinstance(ann, dict):
            problems.append(f'annotations[{i}] is not an object: {ann}')
            continue
        if ann.get('image_id') not in images:
            problems.append(f'{where(i, ann)}: image_id is not the id of an '
                            'entry of "images"')
        if ann.get('category_id') not in categories:
            problems.append(
                f'{where(i, ann)}: category_id {ann.get("category_id")} is '
                f'not in "categories" (ids {sorted(categories)})')
        bbox = ann.get('bbox')
        if not (isinstance(bbox, (list, tuple)) and len(bbox) == 4 and all(
                isinstance(v, (int, float)) and math.isfinite(v)
                for v in bbox)):
            problems.append(f'{where(i, ann)}: bbox must be 4 finite '
                            f'numbers [x, y, w, h], got {bbox}')
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
        # set before super().__init__, which loads the file and indexes it
        self._source = source or annotation_file
        self._require_annotations = require_annotations
        self._classes = classes
        super().__init__(annotation_file)

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
        missing, empty = [], []
        for info in data_list:
            path = info['img_path']
            if '://' in path:
                continue
            try:
                if os.stat(path).st_size == 0:
                    empty.append(path)
            except FileNotFoundError:
                missing.append(path)
        if missing:
            raise FileNotFoundError(
                _report(
                    self.ann_file, f'{len(missing)} image file(s) listed '
                    f'in "images" do not exist under data_prefix.img '
                    f'{osp.abspath(self.data_prefix.get("img", ""))}',
                    missing))
        if empty:
            raise ValueError(
                _report(self.ann_file,
                        f'{len(empty)} image file(s) are empty (0 bytes)',
                        empty))
