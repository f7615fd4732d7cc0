#!/usr/bin/env python
"""Draw SMCA-DETR's predicted query centres and per-head Gaussian priors.

For one image, the most confident queries of a trained (or randomly
initialised) SMCA-DETR are shown: the first panel has their boxes and
predicted centres, the other panels one attention head each, with the prior
``G = exp(log G)`` of the chosen decoder layer (maximum over the shown
queries) laid over the image. Centres and priors live on the feature-map
grid (cells of ``feat_stride`` pixels, reference-code units); a centre ``c``
in cells is drawn at pixel ``c * stride`` and cell ``(x, y)`` covers pixels
``[x * stride, (x + 1) * stride)``, which is how the reference code relates
the two (no half-cell shift).

Example::

    python tools/analysis_tools/visualize_smca_prior.py \
        configs/smca_detr/smca-detr_r18_1xb8-36e_synthetic-shapes-160x160.py \
        work_dirs/smca_demo/epoch_36.pth \
        data/synthetic_shapes/val/shapes_00000.jpg --out prior.png --layer 0
"""
import argparse
import os.path as osp
from typing import Dict, Optional

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import mmcv  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from mmcv.transforms import Compose  # noqa: E402
from mmdet.apis import init_detector  # noqa: E402
from mmdet.structures.bbox import bbox_cxcywh_to_xyxy  # noqa: E402
from mmdet.utils import get_test_pipeline_cfg  # noqa: E402
from mmengine.dataset import pseudo_collate  # noqa: E402

import mmplugin_transfuse  # noqa: E402,F401


def compute_priors(model: torch.nn.Module, img_path: str, layer: int,
                   num_queries: int) -> Dict[str, np.ndarray]:
    """Run the model on one image; return what the figure needs.

    Returns:
        dict: ``image`` (RGB, after the test pipeline's resize, ``(H, W,
        3)``), ``centers`` (pixels, ``(k, 2)``), ``boxes`` (pixels xyxy,
        ``(k, 4)``), ``scores``/``labels`` (``(k, )``), ``priors`` (``G`` of
        the ``k`` queries per head, ``(num_heads, k, h, w)``), ``stride``.
    """
    if type(model).__name__ != 'SMCADETR':
        raise ValueError('visualize_smca_prior: the config must build an '
                         f'SMCADETR, got {type(model).__name__}')
    if not 0 <= layer < len(model.decoder.layers):
        raise ValueError(f'visualize_smca_prior: --layer must be in [0, '
                         f'{len(model.decoder.layers) - 1}], got {layer}')
    if not osp.isfile(img_path):
        raise FileNotFoundError(f'visualize_smca_prior: no image {img_path}')
    pipeline_cfg = [
        t for t in get_test_pipeline_cfg(model.cfg.copy())
        if 'LoadAnnotations' not in t['type']
    ]
    data = Compose(pipeline_cfg)(dict(img_path=img_path, img_id=0))
    data = model.data_preprocessor(pseudo_collate([data]), False)
    inputs, samples = data['inputs'], data['data_samples']
    # the decoder layers receive log G as `cross_attn_mask` and the decoder
    # returns the centre logits: read both with forward hooks, so the model
    # runs its own forward and nothing here re-implements it
    log_priors, dec = [], {}
    hooks = [
        layer.register_forward_hook(
            lambda mod, args, kwargs, out: log_priors.append(
                kwargs['cross_attn_mask']),
            with_kwargs=True) for layer in model.decoder.layers
    ]
    hooks.append(
        model.decoder.register_forward_hook(
            lambda mod, args, kwargs, out: dec.update(
                valid_wh=kwargs['valid_wh'],
                feat_hw=kwargs['feat_hw'],
                center_logits=out[1]),
            with_kwargs=True))
    try:
        with torch.no_grad():
            cls_scores, boxes = model._forward(inputs, samples)
    finally:
        for hook in hooks:
            hook.remove()
    # last decoder layer's predictions of the one image
    scores, labels = cls_scores[-1, 0].sigmoid().max(-1)
    k = min(num_queries, scores.numel())
    keep = scores.topk(k).indices
    img_h, img_w = samples[0].img_shape[:2]
    scale = boxes.new_tensor([img_w, img_h, img_w, img_h])
    boxes_px = bbox_cxcywh_to_xyxy(boxes[-1, 0, keep]) * scale
    stride = model.feat_stride
    feat_h, feat_w = dec['feat_hw']
    # centres on the key grid (cells), drawn at cell * stride pixels
    centers = dec['center_logits'][0].sigmoid() * dec['valid_wh'][0]
    nq = centers.size(0)
    # (bs * nh, nq, h * w) batch-major; one image -> (nh, nq, h, w)
    prior = log_priors[layer].view(-1, nq, feat_h, feat_w).float()
    priors = prior[:, keep].exp()  # (nh, k, h, w)
    image = mmcv.imread(img_path, channel_order='rgb')
    image = mmcv.imresize(image, (img_w, img_h))  # boxes live in img_shape
    return dict(
        image=image,
        centers=(centers[keep] * stride).cpu().numpy(),
        boxes=boxes_px.cpu().numpy(),
        scores=scores[keep].cpu().numpy(),
        labels=labels[keep].cpu().numpy(),
        priors=priors.cpu().numpy(),
        stride=stride)


def draw(result: Dict[str, np.ndarray], out_file: str, layer: int,
         class_names: Optional[tuple] = None) -> None:
    """Save the figure: detections + centres, then one panel per head."""
    image, priors, stride = result['image'], result['priors'], result['stride']
    num_heads, _, feat_h, feat_w = priors.shape
    extent = (0, feat_w * stride, feat_h * stride, 0)  # cells -> pixels
    cols = min(num_heads + 1, 3)
    rows = int(np.ceil((num_heads + 1) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 3.2 * rows))
    axes = np.atleast_1d(axes).ravel()
    colors = plt.cm.tab10(np.arange(len(result['scores'])) % 10)
    ax = axes[0]
    ax.imshow(image)
    for (x1, y1, x2, y2), (cx, cy), s, lab, c in zip(
            result['boxes'], result['centers'], result['scores'],
            result['labels'], colors):
        ax.add_patch(
            plt.Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, color=c))
        ax.plot(cx, cy, 'x', color=c, markersize=8, mew=2)
        name = class_names[lab] if class_names else str(lab)
        ax.text(x1, y1, f'{name} {s:.2f}', color=c, fontsize=7, va='bottom')
    ax.set_title('boxes, predicted centres (x)', fontsize=8)
    for head in range(num_heads):
        ax = axes[head + 1]
        # grey image so that the prior's colour map stays readable
        ax.imshow(image.mean(-1), cmap='gray')
        ax.imshow(
            priors[head].max(0),
            cmap='jet',
            alpha=0.5,
            extent=extent,
            interpolation='nearest',
            vmin=0,
            vmax=1)
        for (cx, cy), c in zip(result['centers'], colors):
            ax.plot(cx, cy, 'x', color=c, markersize=6, mew=1.5)
        ax.set_xlim(0, image.shape[1])
        ax.set_ylim(image.shape[0], 0)
        ax.set_title(f'layer {layer} head {head}: G', fontsize=8)
    for ax in axes:
        ax.axis('off')
    fig.tight_layout()
    fig.savefig(out_file, dpi=100)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(
        description='Draw SMCA-DETR centres and per-head Gaussian priors')
    parser.add_argument('config', help='SMCA-DETR config file')
    parser.add_argument(
        'checkpoint', nargs='?', default=None,
        help='checkpoint (random initialisation if omitted)')
    parser.add_argument('img', help='image file')
    parser.add_argument('--out', default='smca_prior.png', help='PNG path')
    parser.add_argument(
        '--layer', type=int, default=0, help='decoder layer (default 0)')
    parser.add_argument(
        '--num-queries', type=int, default=5,
        help='how many of the most confident queries to draw')
    parser.add_argument('--device', default='cpu')
    args = parser.parse_args()
    model = init_detector(args.config, args.checkpoint, device=args.device)
    result = compute_priors(model, args.img, args.layer, args.num_queries)
    draw(result, args.out, args.layer,
         model.dataset_meta.get('classes') if model.dataset_meta else None)
    print(f'saved {args.out}')


if __name__ == '__main__':
    main()
