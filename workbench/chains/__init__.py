"""Chains and agents: versioned chain definitions, tool-using agents, and their evaluation
end to end and step by step, with trajectories.

- `tools`: the built-in tools (knowledge-base search, calculator, dates, the HR table), each a
  registered function with a JSON schema for its arguments.
- `trajectory`: tool-call metrics (accuracy as ragas' `ToolCallAccuracy`, F1, argument exact
  match, forbidden calls).
- `agent`: the tool-calling loop with a step budget and loop detection.
"""
