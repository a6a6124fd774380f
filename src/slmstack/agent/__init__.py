"""The agent runtime: a loop of typed step records over a model and its tools.

``Agent(model, tools=[fn, ...], output=Model, budgets=Budgets(...)).run(task) -> RunResult``.
"""

from __future__ import annotations

from .budgets import Budgets
from .loop import Agent
from .loopguard import LoopPolicy
from .mcp import MCPConnection, MCPServerSpec, mcp_servers_from_toml
from .records import (
    STOP_REASONS,
    FinalStep,
    GuardStep,
    ModelStep,
    RunResult,
    Step,
    StopReason,
    ToolStep,
)
from .retrieval import ToolGate, default_gate
from .tools import Tool, ToolOutcome, ToolRegistry, as_tool, tool
from .verdict import Verifier, VerifierHook, VerifierPolicy

__all__ = [
    "STOP_REASONS",
    "Agent",
    "Budgets",
    "FinalStep",
    "GuardStep",
    "LoopPolicy",
    "MCPConnection",
    "MCPServerSpec",
    "ModelStep",
    "RunResult",
    "Step",
    "StopReason",
    "Tool",
    "ToolGate",
    "ToolOutcome",
    "ToolRegistry",
    "ToolStep",
    "Verifier",
    "VerifierHook",
    "VerifierPolicy",
    "default_gate",
    "as_tool",
    "mcp_servers_from_toml",
    "tool",
]
