"""An mmseg segmentor whose network is an ONNX model run by ONNX Runtime."""
from typing import Optional

import torch
from mmseg.models.segmentors import BaseSegmentor
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, OptSampleList, SampleList
from torch import Tensor


@MODELS.register_module()
class ONNXRuntimeSegmentor(BaseSegmentor):
    """Evaluate an exported segmentor with the config's own test loop.

    The ONNX model (``tools/deployment/pytorch2onnx.py``) maps the data
    preprocessor's output ``input`` ``(N, 3, H, W)`` to ``seg_logits``, the
    PyTorch model's ``mode='tensor'`` output. Resizing to the image and the
    threshold / argmax are done here exactly as ``EncoderDecoder.predict``
    does them (``whole`` inference), with the config's decode head for its
    ``predict_by_feat``, ``threshold`` and ``align_corners`` (its weights
    are not used).

    Args:
        onnx_file (str): The exported model.
        data_preprocessor (dict): The config's ``model.data_preprocessor``.
        decode_head (dict): The config's ``model.decode_head``.
        num_threads (int, optional): ONNX Runtime intra-op threads.
    """

    def __init__(self,
                 onnx_file: str,
                 data_preprocessor: ConfigType,
                 decode_head: ConfigType,
                 num_threads: Optional[int] = None,
                 **kwargs) -> None:
        # the rest of the PyTorch model's config (backbone, neck, train_cfg,
        # ...) is not needed: the ONNX model replaces it
        super().__init__(data_preprocessor=data_preprocessor)
        from .onnx_export import _ort_session
        self.session = _ort_session(onnx_file, num_threads)
        self.decode_head = MODELS.build(decode_head)
        self.align_corners = self.decode_head.align_corners
        self.num_classes = self.decode_head.num_classes
        self.out_channels = self.decode_head.out_channels

    def _forward(self,
                 inputs: Tensor,
                 data_samples: OptSampleList = None) -> Tensor:
        """``seg_logits`` of the ONNX model for ``inputs`` ``(N, 3, H, W)``."""
        (logits, ) = self.session.run(['seg_logits'], {
            'input': inputs.detach().cpu().float().numpy()})
        return torch.from_numpy(logits).to(inputs.device)

    def encode_decode(self, inputs: Tensor,
                      batch_img_metas: list) -> Tensor:
        """Logits resized to the (padded) input, as ``EncoderDecoder``."""
        return self.decode_head.predict_by_feat(
            self._forward(inputs), batch_img_metas)

    def predict(self,
                inputs: Tensor,
                data_samples: OptSampleList = None) -> SampleList:
        """Predictions in the original image size, as ``EncoderDecoder``."""
        if data_samples is not None:
            batch_img_metas = [s.metainfo for s in data_samples]
        else:
            shape = inputs.shape[2:]
            batch_img_metas = [
                dict(ori_shape=shape, img_shape=shape, pad_shape=shape,
                     padding_size=[0, 0, 0, 0])
            ] * inputs.shape[0]
        seg_logits = self.encode_decode(inputs, batch_img_metas)
        return self.postprocess_result(seg_logits, data_samples)

    def extract_feat(self, inputs: Tensor):
        raise RuntimeError(
            'ONNXRuntimeSegmentor runs the whole exported network; it has no '
            'separate feature extractor')

    def loss(self, inputs: Tensor, data_samples: SampleList) -> dict:
        raise RuntimeError(
            'ONNXRuntimeSegmentor is for inference only (the ONNX model has '
            'no gradients); train the PyTorch config instead')
