"""Chains and agents: versioned chain definitions, tool-using agents, and their evaluation
end to end and step by step, with trajectories.

- `tools`: the built-in tools (knowledge-base search, calculator, dates, the HR table), each a
  registered function with a JSON schema for its arguments.
- `agent`: the tool-calling loop with a step budget and loop detection (the OpenAI tools API
  for HTTP models, a JSON schema under constrained decoding for local ones).
- `spec`: versioned chain files; `runner`: a chain run step by step, one trace per question.
- `trajectory`: tool-call metrics (accuracy as ragas' `ToolCallAccuracy`, F1, argument exact
  match, forbidden calls); `evaluate`: chains on a task set with per-step attribution.
- `compare`: chain variants with paired statistics; `summary`: what notebook 08 shows.
"""

from . import agent, compare, evaluate, runner, spec, summary, tools, trajectory

__all__ = ["agent", "compare", "evaluate", "runner", "spec", "summary", "tools", "trajectory"]
