"""ONNX export and ONNX Runtime inference of the package's models.

Needs the ``deploy`` extra (``pip install "mmplugin_transfuse[deploy]"``:
onnx, onnxruntime, onnxscript); importing this module registers
:class:`ONNXRuntimeSegmentor` (mmseg) and :class:`ONNXRuntimeDetector`
(mmdet), which ``tools/deployment/onnx_test.py`` puts in place of a
config's model. ``import mmplugin_transfuse`` does not import it.
"""
from .export_wrappers import DetExportWrapper, SegExportWrapper
from .onnx_export import (build_model, compare_with_pytorch, export_onnx,
                          export_program, export_wrapper,
                          require_deploy_extra, size_divisor, task_of)
from .ort_detector import ONNXRuntimeDetector
from .ort_segmentor import ONNXRuntimeSegmentor

__all__ = [
    'DetExportWrapper', 'SegExportWrapper', 'build_model',
    'compare_with_pytorch', 'export_onnx', 'export_program', 'export_wrapper',
    'require_deploy_extra', 'size_divisor', 'task_of', 'ONNXRuntimeDetector',
    'ONNXRuntimeSegmentor'
]
