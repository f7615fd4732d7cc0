"""Reading image files with errors that name the file.

Shared by the segmentation and detection pipelines: :func:`read_image_file`
is used by :class:`CheckedLoadImageFromFile` and by the segmentation mask
loader (:class:`mmplugin_transfuse.seg.datasets.CheckedLoadAnnotations`).

:class:`CheckedLoadImageFromFile` is registered the way ``engine/`` registers
its parts and mmcv registers ``LoadImageFromFile``: into mmengine's root
``TRANSFORMS``. mmseg's and mmdet's ``TRANSFORMS`` are children of it and
fall back to it for a name they do not hold, so the one class is found from
configs with ``default_scope='mmseg'`` and ``'mmdet'`` alike, and this
module depends on neither library.
"""
from typing import Optional

import mmcv
import mmengine.fileio as fileio
import numpy as np
from mmcv.transforms import LoadImageFromFile
from mmengine.registry import TRANSFORMS

JPEG_SOI = b'\xff\xd8'
JPEG_SOS = b'\xff\xda'
JPEG_EOI = b'\xff\xd9'
PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'


def check_image_bytes(data: bytes,
                      filename: str,
                      what: str = 'image') -> None:
    """Raise ``ValueError`` naming ``filename`` if ``data`` is not a whole
    image file (``what`` names its role in the message, e.g. ``'mask'``).

    - zero bytes;
    - a JPEG without an end-of-image marker after its last start-of-scan
      (a truncated download/copy: some decoders, e.g. Pillow and older
      OpenCV, return the top of the image with grey below and only warn).
      Markers before the last scan belong to EXIF thumbnails and are not
      taken as the end of the image;
    - a PNG without its ``IEND`` chunk.

    Other formats are left to the decoder (which returns ``None`` for
    undecodable bytes, see :func:`read_image_file`).
    """
    if len(data) == 0:
        raise ValueError(f'{what} file is empty (0 bytes): {filename}')
    if data.startswith(JPEG_SOI):
        sos = data.rfind(JPEG_SOS)
        if sos < 0 or data.find(JPEG_EOI, sos) < 0:
            raise ValueError(
                f'truncated JPEG {what} (no end-of-image marker after the '
                f'image data, {len(data)} bytes): {filename}')
    elif data.startswith(PNG_SIGNATURE) and data.rfind(b'IEND') < 0:
        raise ValueError(
            f'truncated PNG {what} (no IEND chunk, {len(data)} bytes): '
            f'{filename}')


def read_image_file(filename: str,
                    flag: str = 'color',
                    backend: str = 'cv2',
                    backend_args: Optional[dict] = None,
                    file_client_args: Optional[dict] = None,
                    what: str = 'image') -> np.ndarray:
    """Read and decode an image file; every failure names the file.

    Args:
        filename (str): Path (or URI of an mmengine file backend).
        flag (str): :func:`mmcv.imfrombytes` flag, e.g. ``'color'``,
            ``'grayscale'``, ``'unchanged'``. Defaults to ``'color'``.
        backend (str): Decoding backend (``'cv2'``, ``'pillow'``, ...).
        backend_args (dict, optional): mmengine file backend arguments.
        file_client_args (dict, optional): Deprecated mmengine
            ``FileClient`` arguments, still accepted by mmcv's loaders.
        what (str): Role of the file in the messages, e.g. ``'mask'``.
            Defaults to ``'image'``.

    Returns:
        np.ndarray: The decoded image, e.g. ``(H, W, 3)`` uint8 for
        ``flag='color'``.

    Raises:
        FileNotFoundError: ``<what> file not found: <filename>``.
        ValueError: The file is empty, a truncated JPEG/PNG
            (:func:`check_image_bytes`), or bytes the decoder rejects.
    """
    try:
        if file_client_args is not None:
            client = fileio.FileClient.infer_client(file_client_args,
                                                    filename)
            data = client.get(filename)
        else:
            data = fileio.get(filename, backend_args=backend_args)
    except FileNotFoundError as e:
        raise FileNotFoundError(f'{what} file not found: {filename}') from e
    check_image_bytes(data, filename, what)
    try:
        img = mmcv.imfrombytes(data, flag=flag, backend=backend)
    except Exception as e:  # decoder errors do not name the file
        raise ValueError(f'cannot decode {what} file ({type(e).__name__}: '
                         f'{e}): {filename}') from e
    if img is None:
        raise ValueError(f'not a readable {what} ({len(data)} bytes that the '
                         f'{backend} decoder rejects): {filename}')
    return img


@TRANSFORMS.register_module()
class CheckedLoadImageFromFile(LoadImageFromFile):
    """``LoadImageFromFile`` with clear errors for unusable image files.

    Registered into mmengine's root ``TRANSFORMS`` (like mmcv's
    ``LoadImageFromFile``), so ``dict(type='CheckedLoadImageFromFile')``
    works in mmseg- and mmdet-scoped pipelines.

    mmcv 2.1's transform raises ``FileNotFoundError`` for a missing file, an
    OpenCV assertion that does not name the file for a 0-byte file, a bare
    ``AssertionError('failed to load image')`` (stripped under ``python -O``)
    for bytes that do not decode, and may decode a truncated JPEG into a
    partly grey image (decoder dependent). This transform raises instead:

    - ``FileNotFoundError('image file not found: <path>')``;
    - ``ValueError`` naming the file for an empty file, a truncated JPEG/PNG
      (:func:`check_image_bytes`) or bytes the decoder cannot read (not an
      image).

    Channels: with the default ``color_type='color'`` every image comes out
    as ``(H, W, 3)`` BGR, whatever the file holds: a grayscale file is
    replicated to three equal channels and the alpha channel of an RGBA /
    grey+alpha file is dropped (the decoder's ``IMREAD_COLOR`` behaviour,
    no compositing over a background). Models with a 3-channel stem can
    therefore read any of these files.

    With ``ignore_empty=True`` it returns ``None`` for those files, as the
    mmcv transform does for unreadable files (the dataset then picks another
    sample). Arguments are those of
    :class:`mmcv.transforms.LoadImageFromFile`.

    Required keys: ``img_path``. Added keys: ``img``, ``img_shape``,
    ``ori_shape``.
    """

    def transform(self, results: dict) -> Optional[dict]:
        filename = results['img_path']
        try:
            img = read_image_file(
                filename,
                flag=self.color_type,
                backend=self.imdecode_backend,
                backend_args=self.backend_args,
                file_client_args=self.file_client_args)
        except (FileNotFoundError, ValueError):
            if self.ignore_empty:
                return None
            raise
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results
