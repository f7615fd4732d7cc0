#!/usr/bin/env python
"""Convert CVC-ClinicDB's TIFF release to the layout PolypDataset reads.

Source (612 frames of 384x288)::

    SRC/Original/<N>.tif        # RGB frames
    SRC/Ground Truth/<N>.tif    # 0/255 masks

(the PNG re-release, ``SRC/Original/<N>.png`` and ``SRC/Ground Truth/<N>.png``,
is read the same way).

Output (``configs/_base_/datasets/cvc_clinicdb.py`` reads it)::

    OUT/images/<N>.png          # lossless re-encoding of the frame
    OUT/masks/<N>.png           # 0 background, 1 polyp
    OUT/splits/{train,val}.txt  # seeded random split (no official one)

Masks are binarised at ``--mask-threshold`` (default 128, the midpoint of
0/255). The source is only read. The conversion is
:mod:`mmplugin_transfuse.data_prep.paired_folders`, shared with
``kvasir_seg.py``.

Example::

    python tools/dataset_converters/cvc_clinicdb.py data/CVC-ClinicDB \
        --out data/cvc_clinicdb
"""
from typing import Dict, List, Optional

from mmplugin_transfuse.data_prep.paired_folders import CVC_CLINICDB
from mmplugin_transfuse.data_prep.paired_folders import main as convert_cli


def main(argv: Optional[List[str]] = None) -> Dict[str, int]:
    return convert_cli(CVC_CLINICDB, argv, __doc__.split('\n')[0])


if __name__ == '__main__':
    main()
