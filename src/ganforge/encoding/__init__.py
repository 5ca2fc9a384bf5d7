"""Reversible column encoders and the TableEncoder that combines them."""

from .base import ACTIVATIONS, ENCODERS, ColumnEncoder, Span
from .categorical import GaussianIntervalEncoder, OneHotEncoder, OrdinalCodeEncoder
from .numeric import MinMaxEncoder, ModeSpecificEncoder, StandardEncoder
from .table import EncodingOptions, TableEncoder

__all__ = [
    "ACTIVATIONS", "ENCODERS", "ColumnEncoder", "Span", "GaussianIntervalEncoder", "OneHotEncoder",
    "OrdinalCodeEncoder", "MinMaxEncoder", "ModeSpecificEncoder", "StandardEncoder", "EncodingOptions",
    "TableEncoder",
]
