#!/usr/bin/env python
"""Convert the raw Kvasir-SEG release to the layout PolypDataset reads.

Source (``kvasir-seg.zip`` from Simula, 1000 images)::

    SRC/images/<id>.jpg
    SRC/masks/<id>.jpg          # JPEG 0/255 masks (not exactly 0/255)
    SRC/kavsir_bboxes.json      # ignored

Output (``configs/_base_/datasets/kvasir_seg.py`` reads it)::

    OUT/images/<id>.jpg         # copied byte for byte
    OUT/masks/<id>.png          # 0 background, 1 polyp
    OUT/splits/{train,val}.txt  # seeded random split (no official one)

Masks are binarised at ``--mask-threshold`` (default 128, the midpoint of
0/255, so JPEG ringing goes to the nearer class). The source is only read.
The conversion is :mod:`mmplugin_transfuse.data_prep.paired_folders`, shared
with ``cvc_clinicdb.py``.

Example::

    python tools/dataset_converters/kvasir_seg.py data/Kvasir-SEG \
        --out data/kvasir_seg --val-ratio 0.1
"""
from typing import Dict, List, Optional

from mmplugin_transfuse.data_prep.paired_folders import KVASIR_SEG
from mmplugin_transfuse.data_prep.paired_folders import main as convert_cli


def main(argv: Optional[List[str]] = None) -> Dict[str, int]:
    return convert_cli(KVASIR_SEG, argv, __doc__.split('\n')[0])


if __name__ == '__main__':
    main()
