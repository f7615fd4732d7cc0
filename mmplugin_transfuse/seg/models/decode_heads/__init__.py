from .transfuse_head import TransFuseHead

__all__ = ['TransFuseHead']
