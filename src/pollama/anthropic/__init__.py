"""Anthropic's Messages API over the native chat use-case: wire models, translation to and from the native
typed requests and responses, the streaming event converter, and Anthropic's error bodies."""
