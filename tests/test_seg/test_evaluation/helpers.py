"""Build the dicts mmengine's Evaluator hands to ``Metric.process``."""
import numpy as np
import torch


def sample(pred, gt, **meta) -> dict:
    """A data sample as ``SegDataSample.to_dict()`` gives it."""
    out = dict(
        pred_sem_seg=dict(data=torch.as_tensor(np.asarray(pred))[None]),
        gt_sem_seg=dict(data=torch.as_tensor(np.asarray(gt))[None]),
        img_path=meta.pop('img_path', 'img.png'))
    out.update(meta)
    return out


def run_metric(metric, samples, classes=('background', 'fg')) -> dict:
    metric.dataset_meta = dict(classes=classes)
    metric.process({}, samples)
    return metric.evaluate(len(samples))
