"""slmstack — a private, heterogeneous small-language-model agent stack."""

from .config import Settings, load_settings
from .errors import (
    BackendUnavailable,
    ConfigError,
    InvalidSchema,
    ModelNotFound,
    ModelRetry,
    OutputValidationError,
    SlmstackError,
    ToolCallError,
    UserError,
)
from .models import BaseChatModel, Catalog, ChatModel, ModelProfile, load_model
from .types import Completion, Message, StreamEvent, ToolCall, ToolSpec, Usage

__version__ = "0.1.0"

__all__ = [
    "BackendUnavailable",
    "BaseChatModel",
    "Catalog",
    "ChatModel",
    "Completion",
    "ConfigError",
    "InvalidSchema",
    "Message",
    "ModelNotFound",
    "ModelProfile",
    "ModelRetry",
    "OutputValidationError",
    "Settings",
    "SlmstackError",
    "StreamEvent",
    "ToolCall",
    "ToolCallError",
    "ToolSpec",
    "Usage",
    "UserError",
    "load_model",
    "load_settings",
]
