"""Sample-list checks shared by the segmentation datasets of this package."""
import os.path as osp
from typing import List, Sequence

import mmengine.fileio as fileio

from mmplugin_transfuse.utils import first_n_and_more

MAX_LISTED_NAMES = 3


def describe_names(names: Sequence[str],
                   max_listed: int = MAX_LISTED_NAMES) -> str:
    """``"3 name(s): ['a', 'b', 'c']"`` or, for 10 names,
    ``"10 name(s): ['a', 'b', 'c'] and 7 more"``."""
    return (f'{len(names)} name(s): '
            f'{first_n_and_more(sorted(names), max_listed)}')


class CheckedSegFilesMixin:
    """Make a :class:`mmseg.datasets.BaseSegDataset` check its sample files.

    ``BaseSegDataset.load_data_list`` builds each mask path from the image
    name (or each image and mask path from a split file) without looking at
    the disk, so a missing file surfaces deep in a dataloader worker, mid
    training. With this mixin first in the bases, the dataset fails at
    construction with one ``FileNotFoundError`` that names the folders and
    lists the unmatched sample names (a few, plus their count):

    - a missing split file (``ann_file``; mmseg only asserts it exists);
    - a missing image folder, or no image with ``img_suffix`` in it;
    - images without a mask (``<name><seg_map_suffix>`` missing from
      ``data_prefix['seg_map_path']``);
    - when samples are listed from the image folder (no ``ann_file``):
      masks without an image;
    - when ``ann_file`` lists the samples: names without an image (masks
      of other splits may share the folder, so extra masks are fine).

    It also stores ``num_classes`` (the number of ``classes`` in the
    metainfo) in every sample, read by :class:`CheckedLoadAnnotations` to
    check the mask values.
    """

    def load_data_list(self) -> List[dict]:
        """Samples of the base class, checked against the disk."""
        img_dir = self.data_prefix.get('img_path', None) or ''
        from_folder = not self.ann_file or osp.isdir(self.ann_file)
        if from_folder and not fileio.isdir(
                img_dir, backend_args=self.backend_args):
            raise FileNotFoundError(
                f'{type(self).__name__}: image folder {img_dir!r} '
                "(data_prefix['img_path']) does not exist")
        if not from_folder and not osp.isfile(self.ann_file):
            raise FileNotFoundError(
                f'{type(self).__name__}: split file (ann_file) '
                f'{self.ann_file} does not exist; it lists one sample name '
                'per line (the dataset converters write splits/*.txt)')
        try:
            data_list = super().load_data_list()
        except UnicodeDecodeError as e:
            raise ValueError(
                f'{type(self).__name__}: split file (ann_file) '
                f'{self.ann_file} is not UTF-8 text (byte {e.start}); it '
                'lists one sample name per line') from None
        if not data_list:
            where = (f'image folder {img_dir}' if from_folder else
                     f'ann_file {self.ann_file}')
            raise FileNotFoundError(
                f'{type(self).__name__}: no sample found in {where} '
                f'(images must end with {self.img_suffix!r})')
        self._check_sample_files(data_list, from_folder)
        num_classes = len(self.metainfo['classes'])
        for info in data_list:
            info['num_classes'] = num_classes
        return data_list

    def _exists(self, path: str) -> bool:
        return fileio.exists(path, backend_args=self.backend_args)

    def _check_sample_files(self, data_list: List[dict],
                            from_folder: bool) -> None:
        img_dir = self.data_prefix.get('img_path', None) or ''
        ann_dir = self.data_prefix.get('seg_map_path', None)
        problems = []
        no_image = [
            self._name(info['img_path'], img_dir, self.img_suffix)
            for info in data_list if not self._exists(info['img_path'])
        ]
        if no_image:
            problems.append(
                f'names listed in {self.ann_file} without an image '
                f'{img_dir}/<name>{self.img_suffix}: '
                f'{describe_names(no_image)}')
        if ann_dir is not None:
            if not fileio.isdir(ann_dir, backend_args=self.backend_args):
                raise FileNotFoundError(
                    f'{type(self).__name__}: mask folder {ann_dir!r} '
                    "(data_prefix['seg_map_path']) does not exist")
            no_mask = [
                self._name(info['img_path'], img_dir, self.img_suffix)
                for info in data_list
                if not self._exists(info['seg_map_path'])
            ]
            if no_mask:
                problems.append(
                    f'images without a mask {ann_dir}/<name>'
                    f'{self.seg_map_suffix}: {describe_names(no_mask)}')
            if from_folder:
                image_names = {
                    self._name(info['img_path'], img_dir, self.img_suffix)
                    for info in data_list
                }
                mask_names = {
                    name[:-len(self.seg_map_suffix)]
                    for name in fileio.list_dir_or_file(
                        ann_dir,
                        list_dir=False,
                        suffix=self.seg_map_suffix,
                        recursive=True,
                        backend_args=self.backend_args)
                }
                orphans = mask_names - image_names
                if orphans:
                    problems.append(
                        f'masks without an image {img_dir}/<name>'
                        f'{self.img_suffix}: {describe_names(orphans)}')
        if problems:
            raise FileNotFoundError(f'{type(self).__name__}: ' +
                                    '; '.join(problems))

    @staticmethod
    def _name(path: str, folder: str, suffix: str) -> str:
        name = osp.relpath(path, folder) if folder else path
        return name[:-len(suffix)] if suffix else name
