"""Errors are types with data, so retry logic asks the type (``retryable``), never a message string."""

from __future__ import annotations


class StagecastError(Exception):
    code = "error"
    retryable = False

    def __init__(self, message: str, *, code: str | None = None, retryable: bool | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if retryable is not None:
            self.retryable = retryable

    def __str__(self) -> str:
        return self.message


class ProviderHTTPError(StagecastError):
    """The model service answered with an HTTP error. 408, 409, 429 and 5xx (529 included) are retryable."""

    code = "provider_http"

    def __init__(self, provider: str, status: int, message: str, retry_after: float | None = None) -> None:
        super().__init__(
            f"{provider}: HTTP {status}: {message}",
            retryable=status in (408, 409, 429) or status >= 500,
        )
        self.status = status
        #: seconds the service asked us to wait (Retry-After / retry-after-ms), if it said
        self.retry_after = retry_after


class ProviderNetworkError(StagecastError):
    """The connection failed, or the stream was cut before the model finished."""

    code = "provider_network"
    retryable = True

    def __init__(self, provider: str, message: str) -> None:
        super().__init__(f"{provider}: {message}")


class ProviderConfigError(StagecastError):
    """A key or setting the provider needs is missing; no retry helps."""

    code = "provider_config"


class ProviderProtocolError(StagecastError):
    """The provider answered something we could not understand."""

    code = "provider_protocol"

    def __init__(self, provider: str, message: str) -> None:
        super().__init__(f"{provider}: {message}")


class StageTimeoutError(StagecastError):
    code = "timeout"
    retryable = True

    def __init__(self, timeout_ms: int) -> None:
        super().__init__(f"timed out after {timeout_ms} ms")
        self.timeout_ms = timeout_ms


class CLIExitError(StagecastError):
    """An agent CLI or command exited non-zero or was killed."""

    code = "cli_exit"

    def __init__(self, tool: str, exit_code: int | None, signal_name: str | None, stderr_tail: str) -> None:
        how = f"exited with code {exit_code}" if exit_code is not None else f"was killed by {signal_name or 'a signal'}"
        tail = f"; last stderr lines:\n{stderr_tail}" if stderr_tail else ""
        super().__init__(f"{tool} {how}{tail}")
        self.exit_code = exit_code
        self.signal_name = signal_name
        self.stderr_tail = stderr_tail


class CLINotFoundError(StagecastError):
    code = "cli_not_found"

    def __init__(self, tool: str, hint: str = "") -> None:
        super().__init__(f"{tool} is not installed or not on PATH{'; ' + hint if hint else ''}")
        self.tool = tool


class CLIToolError(StagecastError):
    """An agent CLI reported in its own output that the run failed."""

    code = "cli_tool"

    def __init__(
        self, tool: str, tool_message: str, *, exit_code: int | None, stderr_tail: str, retryable: bool = False
    ) -> None:
        exit_part = f" (exit code {exit_code})" if exit_code is not None else ""
        tail = f"; last stderr lines:\n{stderr_tail}" if stderr_tail else ""
        super().__init__(f"{tool} reported an error{exit_part}: {tool_message}{tail}", retryable=retryable)
        self.tool = tool
        self.exit_code = exit_code
        self.stderr_tail = stderr_tail


class OutputParseError(StagecastError):
    """The answer could not be parsed as the stage's ``output.format`` asks, or a required field is missing."""

    code = "output_parse"


class TemplateError(StagecastError):
    """A template variable resolved to nothing at run time."""

    code = "template"


class PipelineConfigError(StagecastError):
    """A pipeline file is invalid; ``issues`` lists every problem with its path."""

    code = "invalid_pipeline"

    def __init__(self, source: str, issues: list[tuple[str, str]]) -> None:
        lines = "\n".join(f"  {path + ': ' if path else ''}{message}" for path, message in issues)
        n = len(issues)
        super().__init__(f"{source}: {n} problem{'' if n == 1 else 's'}:\n{lines}")
        self.source = source
        self.issues = issues


class UnknownPipelineError(PipelineConfigError):
    """No built-in, deployment pipeline or file answers to ``ref``."""

    code = "unknown_pipeline"

    def __init__(self, ref: str, available: list[str], message: str) -> None:
        super().__init__(ref, [("", message)])
        self.message = message
        self.ref = ref
        self.available = available


def error_message(err: BaseException) -> str:
    return str(err) or type(err).__name__
