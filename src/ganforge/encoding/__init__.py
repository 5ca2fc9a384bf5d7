"""Reversible column encoders, the condition, and the TableEncoder that combines them."""

from .base import ACTIVATIONS, ENCODERS, ColumnEncoder, Span
from .categorical import GaussianIntervalEncoder, OneHotEncoder, OrdinalCodeEncoder
from .condition import Condition, onehot, parse_condition_on
from .numeric import MinMaxEncoder, ModeSpecificEncoder, StandardEncoder
from .table import TableEncoder

__all__ = [
    "ACTIVATIONS", "ENCODERS", "ColumnEncoder", "Span", "GaussianIntervalEncoder", "OneHotEncoder",
    "OrdinalCodeEncoder", "MinMaxEncoder", "ModeSpecificEncoder", "StandardEncoder", "TableEncoder",
    "Condition", "onehot", "parse_condition_on",
]
