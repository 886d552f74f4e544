"""Multi-agent orchestration patterns as prebuilt LangGraph StateGraph factories."""
