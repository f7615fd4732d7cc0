#!/usr/bin/env python
"""Predict one image or every image of a folder and save visualised PNGs.

Runs the stock OpenMMLab inferencers on any config of this package (or of
mmdet / mmseg): ``DetInferencer`` for detection configs
(``default_scope='mmdet'``, e.g. SMCA-DETR: boxes, class names, scores
above ``--score-thr``) and ``MMSegInferencer`` for segmentation configs
(``default_scope='mmseg'``, e.g. TransFuse: the predicted mask blended over
the image). For every input image ``<name>.<ext>`` it writes
``<out-dir>/<name>.png``. ``--pattern`` picks the images of a folder (e.g.
``'*_0000.png'``: the T2 file of each converted prostate slice; the
prostate configs read the slice's other modalities next to it).

    python tools/demo/image_demo.py demo.jpg CONFIG CHECKPOINT --out-dir vis
    python tools/demo/image_demo.py data/synthetic_polyp/images \\
        configs/transfuse/transfuse-s_r34-deit-s_1xb8-200_synthetic-polyp-128x128.py \\
        work_dirs/demo/seg/iter_200.pth --out-dir vis --device cpu
    python tools/demo/image_demo.py data/prostate_msd/images CONFIG CKPT \\
        --pattern '*_0000.png' --out-dir vis
"""
import argparse
import fnmatch
import os
import os.path as osp
from typing import List, Optional

import mmcv
from mmengine.config import Config

IMAGE_EXTS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')


def list_images(path: str, pattern: str = '*') -> List[str]:
    """``path`` itself, or the images directly inside folder ``path``
    whose file names match ``pattern`` (``fnmatch``)."""
    if osp.isdir(path):
        images = sorted(
            osp.join(path, f) for f in os.listdir(path)
            if f.lower().endswith(IMAGE_EXTS) and fnmatch.fnmatch(f, pattern))
        if not images:
            raise FileNotFoundError(
                f'no image ({", ".join(IMAGE_EXTS)}) named {pattern!r} in '
                f'folder {path}')
        return images
    if not osp.isfile(path):
        raise FileNotFoundError(f'input image or folder not found: {path}')
    return [path]


def build_inferencer(config: str, checkpoint: str, device: str):
    """The inferencer of the config's task (its ``default_scope``)."""
    for path, what in ((config, 'config'), (checkpoint, 'checkpoint')):
        if not osp.isfile(path):
            raise FileNotFoundError(f'{what} file not found: {path}')
    scope = Config.fromfile(config).get('default_scope')
    if scope == 'mmdet':
        from mmdet.apis import DetInferencer
        return DetInferencer(model=config, weights=checkpoint, device=device)
    if scope == 'mmseg':
        from mmseg.apis import MMSegInferencer
        return MMSegInferencer(model=config, weights=checkpoint,
                               device=device)
    raise ValueError(f'{config}: default_scope is {scope!r}; expected '
                     "'mmdet' (detection) or 'mmseg' (segmentation)")


def run(inputs: str,
        config: str,
        checkpoint: str,
        out_dir: str,
        device: str = 'cpu',
        score_thr: float = 0.3,
        pattern: str = '*') -> List[str]:
    """Visualise the predictions on ``inputs``; returns the written PNGs."""
    images = list_images(inputs, pattern)
    inferencer = build_inferencer(config, checkpoint, device)
    kwargs = dict(return_vis=True)
    if type(inferencer).__name__ == 'DetInferencer':
        kwargs.update(no_save_vis=True, pred_score_thr=score_thr)
    os.makedirs(out_dir, exist_ok=True)
    written = []
    for image in images:
        # one image per call: a folder of any size never piles up in memory
        vis = inferencer(image, **kwargs)['visualization']
        # DetInferencer returns a list per call; MMSegInferencer unwraps the
        # list of a single image into the (H, W, 3) array itself
        if isinstance(vis, list):
            vis = vis[0]
        out = osp.join(out_dir, osp.splitext(osp.basename(image))[0] + '.png')
        mmcv.imwrite(vis[..., ::-1], out)  # visualisers return RGB
        written.append(out)
    print(f'wrote {len(written)} image(s) to {out_dir}')
    return written


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('inputs', help='an image file or a folder of images')
    parser.add_argument('config', help='model config (mmdet or mmseg)')
    parser.add_argument('checkpoint', help='checkpoint (.pth)')
    parser.add_argument('--out-dir', default='outputs/demo')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--score-thr', type=float, default=0.3,
                        help='detection: boxes below this score are hidden')
    parser.add_argument('--pattern', default='*',
                        help="folder input: only files matching this name "
                        "pattern, e.g. '*_0000.png'")
    args = parser.parse_args(argv)
    run(args.inputs, args.config, args.checkpoint, args.out_dir, args.device,
        args.score_thr, args.pattern)


if __name__ == '__main__':
    main()
