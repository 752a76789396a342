"""The embedded sandbox: a real OpenAI-compatible Models API under `/sandbox/v1/`.

An optional app: installed and routed only when SANDBOX_ENABLED (see settings). State lives
in the database (`SandboxModel`), so deletes persist across restarts and are consistent across
processes. The dashboard reaches it in-process through `transport.InProcessSandbox`, never over
HTTP to its own port.
"""
