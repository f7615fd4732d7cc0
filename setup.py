"""Install mmplugin_transfuse and expose its configs/tools to ``mim``.

Like OpenMMLab's own packages, ``configs/``, ``tools/`` and ``model-index.yml``
are placed under ``mmplugin_transfuse/.mim/`` (symlinked for an editable
install, copied otherwise), so ``mim train mmplugin_transfuse <config>`` finds them.
"""
import os
import os.path as osp
import shutil
import sys
import warnings

from setuptools import find_packages, setup

PKG = 'mmplugin_transfuse'


def get_version() -> str:
    scope: dict = {}
    with open(osp.join(PKG, 'version.py')) as f:
        exec(compile(f.read(), 'version.py', 'exec'), scope)
    return scope['__version__']


def add_mim_extension() -> None:
    """Place configs/, tools/ and model-index.yml under ``<pkg>/.mim``."""
    if 'develop' in sys.argv or 'editable_wheel' in sys.argv:
        mode = 'symlink'  # editable install: follow the source tree
    elif any(a in sys.argv for a in ('sdist', 'bdist_wheel', 'install', 'build')):
        mode = 'copy'
    else:
        return
    repo = osp.dirname(osp.abspath(__file__))
    mim_dir = osp.join(repo, PKG, '.mim')
    os.makedirs(mim_dir, exist_ok=True)
    for name in ('configs', 'tools', 'model-index.yml'):
        src = osp.join(repo, name)
        dst = osp.join(mim_dir, name)
        if not osp.exists(src):
            continue
        if osp.islink(dst) or osp.isfile(dst):
            os.remove(dst)
        elif osp.isdir(dst):
            shutil.rmtree(dst)
        if mode == 'symlink':
            try:
                os.symlink(osp.relpath(src, mim_dir), dst)
                continue
            except OSError:
                warnings.warn(f'cannot symlink {src}; copying instead')
        if osp.isdir(src):
            shutil.copytree(src, dst)
        else:
            shutil.copyfile(src, dst)


if __name__ == '__main__':
    add_mim_extension()
    with open('README.md', encoding='utf-8') as f:
        long_description = f.read()
    setup(
        name=PKG,
        version=get_version(),
        description='TransFuse (mmsegmentation) and SMCA-DETR (mmdetection) '
        'as an OpenMMLab 2.x plugin',
        long_description=long_description,
        long_description_content_type='text/markdown',
        author='mmplugin_transfuse contributors',
        license='Apache License 2.0',
        keywords='computer vision, medical image segmentation, object '
        'detection, transformer, openmmlab',
        project_urls={
            'TransFuse paper': 'https://arxiv.org/abs/2102.08005',
            'TransFuse reference code': 'https://github.com/Rayicer/TransFuse',
            'SMCA-DETR paper': 'https://arxiv.org/abs/2101.07448',
            'SMCA-DETR reference code':
            'https://github.com/gaopengcuhk/SMCA-DETR',
            'mmsegmentation': 'https://github.com/open-mmlab/mmsegmentation',
            'mmdetection': 'https://github.com/open-mmlab/mmdetection',
        },
        classifiers=[
            'Development Status :: 3 - Alpha',
            'Intended Audience :: Science/Research',
            'Intended Audience :: Developers',
            'Programming Language :: Python :: 3',
            'Programming Language :: Python :: 3.8',
            'Programming Language :: Python :: 3.9',
            'Programming Language :: Python :: 3.10',
            'Programming Language :: Python :: 3.11',
            'Programming Language :: Python :: 3.12',
            'Topic :: Scientific/Engineering :: Artificial Intelligence',
            'Topic :: Scientific/Engineering :: Image Recognition',
            'Topic :: Scientific/Engineering :: Medical Science Apps.',
        ],
        packages=find_packages(exclude=('configs', 'tools', 'tests')),
        include_package_data=True,
        python_requires='>=3.8',
        install_requires=[
            'torch>=1.13',
            'torchvision',
            'mmengine>=0.10.0,<1.0',
            'mmcv>=2.0,<2.2',
            'mmsegmentation>=1.2,<2.0',
            'mmdet>=3.3,<4.0',
            'timm>=0.9',
            'ftfy',  # mmseg imports it but does not declare it
            'regex',  # idem
            'numpy',
            'pillow',
            'opencv-python>=4.5,<5',  # OpenMMLab 2.x targets OpenCV 4
            'pycocotools',
            'scipy',
            'tqdm',
        ],
        extras_require={
            # NIfTI volumes (MSD prostate converter, whole-volume
            # evaluation): mmplugin_transfuse.data_prep.msd only
            'medical': ['nibabel'],
            # ONNX export and ONNX Runtime inference: mmplugin_transfuse.deploy
            'deploy': ['onnx>=1.16', 'onnxruntime>=1.17', 'onnxscript'],
            'tests': [
                'pytest', 'pytest-xdist', 'hypothesis', 'nibabel', 'onnx>=1.16',
                'onnxruntime>=1.17', 'onnxscript'
            ],
        },
        zip_safe=False,
    )
