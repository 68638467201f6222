"""Generator networks: pure ``nn.Module`` classes, no I/O."""

from inference.nets.transformer import TransformerNet

__all__ = ["TransformerNet"]
