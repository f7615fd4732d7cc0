"""An mmdet detector whose network is an ONNX model run by ONNX Runtime."""
from typing import Optional, Tuple

import torch
from mmdet.models.detectors import BaseDetector
from mmdet.registry import MODELS
from mmdet.structures import OptSampleList, SampleList
from mmdet.utils import ConfigType
from mmengine.structures import InstanceData
from torch import Tensor


@MODELS.register_module()
class ONNXRuntimeDetector(BaseDetector):
    """Evaluate an exported DETR-family detector with the config's test loop.

    The ONNX model (``tools/deployment/pytorch2onnx.py``) maps ``input``
    ``(N, 3, H, W)`` to ``dets`` ``(N, K, 5)`` (boxes in input pixels, score)
    and ``labels`` ``(N, K)``, treating every image as filling the input.
    That equals the PyTorch model's ``predict`` when no image of a batch is
    padded, e.g. batch size 1 with ``pad_size_divisor=1`` (the DETR
    configs'); ``tools/deployment/onnx_test.py`` runs batch size 1.
    Boxes are mapped back to the original image with the sample's
    ``scale_factor``, as ``DETRHead`` does with ``rescale=True``.

    Args:
        onnx_file (str): The exported model.
        data_preprocessor (dict): The config's ``model.data_preprocessor``.
        num_threads (int, optional): ONNX Runtime intra-op threads.
    """

    def __init__(self,
                 onnx_file: str,
                 data_preprocessor: ConfigType,
                 num_threads: Optional[int] = None,
                 **kwargs) -> None:
        super().__init__(data_preprocessor=data_preprocessor)
        from .onnx_export import _ort_session
        self.session = _ort_session(onnx_file, num_threads)

    def _forward(self,
                 batch_inputs: Tensor,
                 batch_data_samples: OptSampleList = None
                 ) -> Tuple[Tensor, Tensor]:
        """``(dets, labels)`` of the ONNX model."""
        dets, labels = self.session.run(['dets', 'labels'], {
            'input': batch_inputs.detach().cpu().float().numpy()})
        return torch.from_numpy(dets), torch.from_numpy(labels)

    def predict(self,
                batch_inputs: Tensor,
                batch_data_samples: SampleList,
                rescale: bool = True) -> SampleList:
        """Detections of each image, in original-image pixels if
        ``rescale``."""
        dets, labels = self._forward(batch_inputs)
        results = []
        for det, label, sample in zip(dets, labels, batch_data_samples):
            bboxes = det[:, :4].clone()
            if rescale:
                scale = bboxes.new_tensor(sample.metainfo['scale_factor'])
                bboxes /= scale.repeat(2)
            results.append(
                InstanceData(bboxes=bboxes, scores=det[:, 4], labels=label))
        return self.add_pred_to_datasample(batch_data_samples, results)

    def extract_feat(self, batch_inputs: Tensor):
        raise RuntimeError(
            'ONNXRuntimeDetector runs the whole exported network; it has no '
            'separate feature extractor')

    def loss(self, batch_inputs: Tensor,
             batch_data_samples: SampleList) -> dict:
        raise RuntimeError(
            'ONNXRuntimeDetector is for inference only (the ONNX model has '
            'no gradients); train the PyTorch config instead')
