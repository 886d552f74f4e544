"""Multi-agent orchestration patterns as prebuilt LangGraph `StateGraph` factories.

Example:
    ```python
    from langgraph_orchestra import Agent, create_sequential

    team = create_sequential([
        Agent("writer", model="openai:gpt-4o-mini", instructions="Draft a reply."),
        Agent("editor", model="openai:gpt-4o-mini", instructions="Polish it."),
    ]).compile()
    ```
"""

from langgraph_orchestra.agents import Agent, Approval, OnError
from langgraph_orchestra.checkpoint import aopen_checkpointer, open_checkpointer
from langgraph_orchestra.conditions import (
    AllOf,
    AnyOf,
    BudgetScope,
    Condition,
    CostBudget,
    ExternalStop,
    FunctionCondition,
    MaxRounds,
    TextMention,
    Timeout,
    TokenBudget,
)
from langgraph_orchestra.context import ContextPolicy, Window
from langgraph_orchestra.errors import (
    AgentError,
    AgentTimeoutError,
    CheckpointerError,
    DecisionError,
    ModelSetupError,
    OrchestraError,
    OutputValidationError,
    ScriptError,
    SpecError,
    StructuredOutputError,
    TeamConfigError,
    UnknownThreadError,
)
from langgraph_orchestra.graphs import (
    create_concurrent,
    create_group_chat,
    create_maker_checker,
    create_sequential,
)
from langgraph_orchestra.nodes import (
    AggregatorFn,
    ApprovalDecision,
    ApprovalRequest,
    EscalationDecision,
    EscalationRequest,
    HumanTurn,
    HumanTurnRequest,
    SpeakerFn,
    Validator,
    Verdict,
)
from langgraph_orchestra.prompts import DEFAULT_PROMPTS, Prompts
from langgraph_orchestra.state import (
    AuditRecord,
    ConcurrentState,
    ExceptionRecord,
    GroupChatState,
    OrchestraState,
    RunStart,
    SequentialState,
    StopReason,
    Usage,
)
from langgraph_orchestra.tracing import DEFAULT_PRICES, ModelPrice

__all__ = [
    "DEFAULT_PRICES",
    "DEFAULT_PROMPTS",
    "Agent",
    "AgentError",
    "AgentTimeoutError",
    "AggregatorFn",
    "AllOf",
    "AnyOf",
    "Approval",
    "ApprovalDecision",
    "ApprovalRequest",
    "AuditRecord",
    "BudgetScope",
    "CheckpointerError",
    "ConcurrentState",
    "Condition",
    "ContextPolicy",
    "CostBudget",
    "DecisionError",
    "EscalationDecision",
    "EscalationRequest",
    "ExceptionRecord",
    "ExternalStop",
    "FunctionCondition",
    "GroupChatState",
    "HumanTurn",
    "HumanTurnRequest",
    "MaxRounds",
    "ModelPrice",
    "ModelSetupError",
    "OnError",
    "OrchestraError",
    "OrchestraState",
    "OutputValidationError",
    "Prompts",
    "RunStart",
    "ScriptError",
    "SequentialState",
    "SpeakerFn",
    "SpecError",
    "StopReason",
    "StructuredOutputError",
    "TeamConfigError",
    "TextMention",
    "Timeout",
    "TokenBudget",
    "UnknownThreadError",
    "Usage",
    "Validator",
    "Verdict",
    "Window",
    "aopen_checkpointer",
    "create_concurrent",
    "create_group_chat",
    "create_maker_checker",
    "create_sequential",
    "open_checkpointer",
]
