from .structure_loss import StructureLoss, structure_loss

__all__ = ['StructureLoss', 'structure_loss']
