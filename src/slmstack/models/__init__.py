"""Model layer: the ChatModel contract, backends, catalog, tool-call parsing, constraints."""

from .base import BaseChatModel, ChatModel
from .catalog import Catalog, ModelProfile
from .registry import load_model

__all__ = ["BaseChatModel", "ChatModel", "Catalog", "ModelProfile", "load_model"]
