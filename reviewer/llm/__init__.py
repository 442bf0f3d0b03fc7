"""The advisory LLM review (`../reference/llm-review.md` in the design): a second reviewer that can add
findings, capped in severity, and can never remove, soften or replace a rule finding or the verdict."""
