from .transfuse import TransFuseBackbone
from .transfuse_resnet import TransFuseResNet
from .transfuse_vgg import TransFuseVGG
from .transfuse_vit import TransFuseViT

__all__ = [
    'TransFuseBackbone', 'TransFuseResNet', 'TransFuseViT', 'TransFuseVGG'
]
